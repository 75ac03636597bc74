#include <doctest/doctest.h>

#include "data_fixtures.hpp"
#include "mlc/data.hpp"
#include "mlc/error.hpp"

using mlc::data::read_csv;
using mlc::test::TempDir;
using Row = std::vector<std::string>;

TEST_CASE("read_csv reads the header, the rows and their line numbers") {
  TempDir dir;
  const auto path = dir / "table.csv";

  SUBCASE("LF with a trailing newline") {
    mlc::test::write_file(path, "a,b,c\n1,2,3\n4,5,6\n");
    const auto table = read_csv(path);
    CHECK(table.header == Row{"a", "b", "c"});
    CHECK(table.rows == std::vector<Row>{{"1", "2", "3"}, {"4", "5", "6"}});
    CHECK(table.line_numbers == std::vector<int64_t>{2, 3});
  }
  SUBCASE("CRLF without a trailing newline") {
    mlc::test::write_file(path, "a,b\r\n1,2\r\n3,4");
    const auto table = read_csv(path);
    CHECK(table.header == Row{"a", "b"});
    CHECK(table.rows == std::vector<Row>{{"1", "2"}, {"3", "4"}});
    CHECK(table.line_numbers == std::vector<int64_t>{2, 3});
  }
  SUBCASE("blank lines are skipped but counted") {
    mlc::test::write_file(path, "\na,b\n\n1,2\r\n\r\n\n3,4\n\n");
    const auto table = read_csv(path);
    CHECK(table.header == Row{"a", "b"});
    CHECK(table.rows == std::vector<Row>{{"1", "2"}, {"3", "4"}});
    CHECK(table.line_numbers == std::vector<int64_t>{4, 7});
  }
  SUBCASE("empty fields") {
    mlc::test::write_file(path, "a,b,c\n,,\n1,,\n");
    const auto table = read_csv(path);
    CHECK(table.rows == std::vector<Row>{{"", "", ""}, {"1", "", ""}});
  }
  SUBCASE("a header only") {
    mlc::test::write_file(path, "a,b\n");
    const auto table = read_csv(path);
    CHECK(table.header == Row{"a", "b"});
    CHECK(table.rows.empty());
  }
  SUBCASE("a byte order mark is not part of the first name") {
    mlc::test::write_file(path,
                          "\xEF\xBB\xBF"
                          "a,b\n1,2\n");
    CHECK(read_csv(path).header == Row{"a", "b"});
  }
}

TEST_CASE("read_csv reads quoted fields") {
  TempDir dir;
  const auto path = dir / "quoted.csv";

  SUBCASE("commas, escaped quotes and empty quotes") {
    mlc::test::write_file(path, "\"name, full\",\"say \"\"hi\"\"\",c\n\"x,y\",\"\",\"\"\"\"\n");
    const auto table = read_csv(path);
    CHECK(table.header == Row{"name, full", "say \"hi\"", "c"});
    CHECK(table.rows == std::vector<Row>{{"x,y", "", "\""}});
  }
  SUBCASE("line breaks inside quotes, and the line numbers after them") {
    mlc::test::write_file(path, "a,b\n\"two\nlines\",1\r\n\"crlf\r\ninside\",2\n3,4\n");
    const auto table = read_csv(path);
    CHECK(table.rows == std::vector<Row>{{"two\nlines", "1"}, {"crlf\r\ninside", "2"}, {"3", "4"}});
    CHECK(table.line_numbers == std::vector<int64_t>{2, 4, 6});
  }
  SUBCASE("a quote inside an unquoted field is kept") {
    mlc::test::write_file(path, "a,b\n5'11\",x\n");
    CHECK(read_csv(path).rows == std::vector<Row>{{"5'11\"", "x"}});
  }
}

TEST_CASE("read_csv reads the wine table") {
  const auto table = read_csv(std::filesystem::path(MLC_TEST_DATA_DIR) / "wine.csv");
  REQUIRE(table.header.size() == 14);
  CHECK(table.header.front() == "alcohol");
  CHECK(table.header[11] == "od280/od315_of_diluted_wines");
  CHECK(table.header.back() == "class");
  CHECK(table.rows.size() == 178);
  CHECK(table.rows.front() == Row{"14.23", "1.71", "2.43", "15.6", "127", "2.8", "3.06", "0.28",
                                  "2.29", "5.64", "1.04", "3.92", "1065", "0"});
  CHECK(table.line_numbers.back() == 179);
}

TEST_CASE("read_csv rejects tables it cannot use") {
  TempDir dir;
  const auto path = dir / "bad.csv";
  const std::string p = path.string();

  SUBCASE("missing file") {
    const auto missing = dir / "missing.csv";
    REQUIRE_THROWS_WITH_AS(
        read_csv(missing),
        ("cannot open " + missing.string() + ": No such file or directory").c_str(), mlc::Error);
    try {
      read_csv(missing);
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::not_found);
    }
  }
  SUBCASE("empty file") {
    mlc::test::write_file(path, "");
    REQUIRE_THROWS_WITH_AS(read_csv(path), (p + ": empty CSV file, expected a header row").c_str(),
                           mlc::Error);
  }
  SUBCASE("blank lines only") {
    mlc::test::write_file(path, "\n\r\n\n");
    REQUIRE_THROWS_WITH_AS(read_csv(path), (p + ": empty CSV file, expected a header row").c_str(),
                           mlc::Error);
  }
  SUBCASE("duplicate column names") {
    mlc::test::write_file(path, "\nx,a,y,a\n1,2,3,4\n");
    REQUIRE_THROWS_WITH_AS(read_csv(path), (p + ":2: columns 2 and 4 are both named 'a'").c_str(),
                           mlc::Error);
  }
  SUBCASE("a column without a name") {
    mlc::test::write_file(path, ",a,b\n0,1,2\n");
    REQUIRE_THROWS_WITH_AS(read_csv(path), (p + ":1: column 1 has no name").c_str(), mlc::Error);
  }
  SUBCASE("too few fields") {
    mlc::test::write_file(path, "a,b,c\n1,2,3\n\n4,5\n");
    REQUIRE_THROWS_WITH_AS(read_csv(path), (p + ":4: expected 3 fields, found 2").c_str(),
                           mlc::Error);
    try {
      read_csv(path);
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::invalid_input);
    }
  }
  SUBCASE("too many fields") {
    mlc::test::write_file(path, "a,b\r\n1,2,\r\n");
    REQUIRE_THROWS_WITH_AS(read_csv(path), (p + ":2: expected 2 fields, found 3").c_str(),
                           mlc::Error);
  }
  SUBCASE("unterminated quote") {
    mlc::test::write_file(path, "a,b\n1,\"open\n2,3\n");
    REQUIRE_THROWS_WITH_AS(read_csv(path), (p + ":2: unterminated quoted field").c_str(),
                           mlc::Error);
  }
  SUBCASE("text after a closing quote") {
    mlc::test::write_file(path, "a,b\n\"x\"y,1\n");
    REQUIRE_THROWS_WITH_AS(read_csv(path), (p + ":2: unexpected 'y' after a quoted field").c_str(),
                           mlc::Error);
  }
}

TEST_CASE("sniff_delimiter: the most frequent of , ; tab | in the header, outside quotes") {
  using mlc::data::sniff_delimiter;
  CHECK(sniff_delimiter("a,b,c\n1;2;3;4;5\n") == ',');  // the header decides, not the rows
  CHECK(sniff_delimiter("a;b;c\n1,5;2,5;3\n") == ';');
  CHECK(sniff_delimiter("a\tb\tc\n") == '\t');
  CHECK(sniff_delimiter("\r\n\"a,b,c\";d;class\r\n1;2;3\r\n") == ';');  // a quoted header after a CRLF blank line
  CHECK(sniff_delimiter("a|b|c") == '|');
  CHECK(sniff_delimiter("\"x;y;z\",\"p|q|r\",c\n") == ',');  // inside quotes does not count
  CHECK(sniff_delimiter("\"say \"\";\"\"\";b;c\n") == ';');  // "" inside quotes is a quote
  CHECK(sniff_delimiter("5'11\";x;y\n") == ';');  // a quote mid-field opens nothing
  CHECK(sniff_delimiter("a,b;c\n") == ',');  // a tie: the earlier of , ; tab |
  CHECK(sniff_delimiter("a;b\tc|d\n") == ';');
  CHECK(sniff_delimiter("\xEF\xBB\xBF\r\n\na;b\n") == ';');  // byte order mark, blank lines
  CHECK(sniff_delimiter("y\n1,2\n") == ',');  // one column: ','
  CHECK(sniff_delimiter("") == ',');
}

TEST_CASE("read_csv splits fields by the sniffed or the given delimiter") {
  TempDir dir;
  const auto path = dir / "table.csv";

  SUBCASE("semicolons, with decimal commas quoted or not") {
    mlc::test::write_file(path, "a;b;c\n1,5;\"2;5\";x\n");
    const auto table = read_csv(path);
    CHECK(table.delimiter == ';');
    CHECK(table.header == Row{"a", "b", "c"});
    CHECK(table.rows == std::vector<Row>{{"1,5", "2;5", "x"}});
  }
  SUBCASE("tabs, with quoted fields holding tabs and line breaks") {
    mlc::test::write_file(path, "a\tb\n\"x\ty\"\t\"two\nlines\"\n3\t4\n");
    const auto table = read_csv(path);
    CHECK(table.delimiter == '\t');
    CHECK(table.rows == std::vector<Row>{{"x\ty", "two\nlines"}, {"3", "4"}});
    CHECK(table.line_numbers == std::vector<int64_t>{2, 4});
  }
  SUBCASE("a header of one column") {
    mlc::test::write_file(path, "y\n1\n2\n");
    const auto table = read_csv(path);
    CHECK(table.header == Row{"y"});
    CHECK(table.rows == std::vector<Row>{{"1"}, {"2"}});
  }
  SUBCASE("a given delimiter overrides the sniffed one") {
    mlc::test::write_file(path, "a,b;c;d\n1,2;3;4\n");
    CHECK(read_csv(path).header == Row{"a,b", "c", "d"});
    const auto table = read_csv(path, ',');
    CHECK(table.delimiter == ',');
    CHECK(table.header == Row{"a", "b;c;d"});
    CHECK(table.rows == std::vector<Row>{{"1", "2;3;4"}});
  }
  SUBCASE("rows are checked against the header's field count, whatever the delimiter") {
    mlc::test::write_file(path, "a;b\n1;2;3\n");
    REQUIRE_THROWS_WITH_AS(read_csv(path), (path.string() + ":2: expected 2 fields, found 3").c_str(),
                           mlc::Error);
  }
  SUBCASE("a delimiter that is not one of , ; tab |") {
    mlc::test::write_file(path, "a:b\n");
    REQUIRE_THROWS_WITH_AS(
        read_csv(path, ':'),
        (path.string() + ": the delimiter must be one of ',', ';', tab and '|', not \":\"").c_str(),
        mlc::Error);
  }
}

TEST_CASE("read_csv gunzips a file by its magic bytes, whatever its name") {
  TempDir dir;
  const std::string text = "a;b\n1;2\n3;4\n";

  SUBCASE("named .csv.gz") {
    mlc::test::write_gzip(dir / "t.csv.gz", text);
    const auto table = read_csv(dir / "t.csv.gz");
    CHECK(table.header == Row{"a", "b"});
    CHECK(table.rows == std::vector<Row>{{"1", "2"}, {"3", "4"}});
  }
  SUBCASE("named .csv") {
    mlc::test::write_gzip(dir / "t.csv", text);
    CHECK(read_csv(dir / "t.csv").rows.size() == 2);
  }
  SUBCASE("a plain file named .csv.gz is read as it is") {
    mlc::test::write_file(dir / "t.csv.gz", text);
    CHECK(read_csv(dir / "t.csv.gz").rows.size() == 2);
  }
  SUBCASE("members one after another, as cat a.gz b.gz writes them") {
    mlc::test::write_gzip(dir / "a.gz", "a;b\n1;2\n");
    mlc::test::write_gzip(dir / "b.gz", "3;4\n");
    mlc::test::write_file(dir / "ab.csv.gz",
                          mlc::test::read_file(dir / "a.gz") + mlc::test::read_file(dir / "b.gz"));
    CHECK(read_csv(dir / "ab.csv.gz").rows == std::vector<Row>{{"1", "2"}, {"3", "4"}});
  }
}

TEST_CASE("read_csv refuses a gzip file it cannot gunzip, naming it") {
  TempDir dir;
  const auto path = dir / "bad.csv.gz";
  const std::string p = path.string();
  mlc::test::write_gzip(dir / "good.gz", "a,b\n1,2\n3,4\n");
  const std::string good = mlc::test::read_file(dir / "good.gz");

  SUBCASE("cut short") {
    mlc::test::write_file(path, good.substr(0, good.size() / 2));
    REQUIRE_THROWS_WITH_AS(read_csv(path), (p + ": truncated gzip stream").c_str(), mlc::Error);
  }
  SUBCASE("the magic bytes alone") {
    mlc::test::write_file(path, "\x1f\x8b");
    REQUIRE_THROWS_WITH_AS(read_csv(path), (p + ": truncated gzip stream").c_str(), mlc::Error);
  }
  SUBCASE("a wrong checksum") {
    std::string corrupt = good;
    corrupt[corrupt.size() - 8] = static_cast<char>(corrupt[corrupt.size() - 8] ^ 0xff);  // CRC-32
    mlc::test::write_file(path, corrupt);
    REQUIRE_THROWS_WITH_AS(read_csv(path), (p + ": corrupt gzip stream (incorrect data check)").c_str(),
                           mlc::Error);
  }
  SUBCASE("garbage after the stream") {
    mlc::test::write_file(path, good + "garbage\n");
    REQUIRE_THROWS_WITH_AS(read_csv(path), (p + ": corrupt gzip stream (incorrect header check)").c_str(),
                           mlc::Error);
    try {
      read_csv(path);
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::invalid_input);
    }
  }
}
