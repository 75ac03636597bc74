#include <doctest/doctest.h>

#include "mlc/catalog_url.hpp"

using mlc::without_passwords;

TEST_CASE("without_passwords: a URL's userinfo password, with the characters people put in one") {
  CHECK(without_passwords("postgresql://ana:s3cret@db:5432/mlc") == "postgresql://ana:***@db:5432/mlc");
  CHECK(without_passwords("postgresql://ana:pa/ss@db/mlc?sslmode=require") ==
        "postgresql://ana:***@db/mlc?sslmode=require");
  CHECK(without_passwords("postgresql://ana:p@ss@db/mlc") == "postgresql://ana:***@db/mlc");
  CHECK(without_passwords("postgresql://ana@db/mlc") == "postgresql://ana@db/mlc");  // no password
  CHECK(without_passwords("postgresql:///mlc?host=/tmp/pg&port=5432") == "postgresql:///mlc?host=/tmp/pg&port=5432");
}

TEST_CASE("without_passwords: password= in a query, in libpq's keyword form and as a flag's value") {
  CHECK(without_passwords("postgresql://db/mlc?user=ana&password=s3cret&sslmode=require") ==
        "postgresql://db/mlc?user=ana&password=***&sslmode=require");
  CHECK(without_passwords("host=db password=s3cret dbname=mlc") == "host=db password=*** dbname=mlc");
  CHECK(without_passwords("host=db password = 'my s3cret\\'s' dbname=mlc") == "host=db password = *** dbname=mlc");
  CHECK(without_passwords("host=db sslpassword=k3y dbname=mlc") == "host=db sslpassword=*** dbname=mlc");
  CHECK(without_passwords("--catalog=password=s3cret host=db") == "--catalog=password=*** host=db");
  CHECK(without_passwords("PASSWORD=s3cret") == "PASSWORD=***");
  CHECK(without_passwords("--description=mypassword=x") == "--description=mypassword=x");  // not a key
  CHECK(without_passwords("register --artifact model.pt") == "register --artifact model.pt");
}
