#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "data_fixtures.hpp"
#include "mlc/data.hpp"
#include "mlc/error.hpp"
#include "mlc/sha256.hpp"

using mlc::data::load_splits;
using mlc::data::Samples;
using mlc::data::Splits;
using mlc::test::idx_bytes;
using mlc::test::TempDir;
using nlohmann::json;
using Names = std::vector<std::string>;

namespace {

// `count` 2x3 images whose first pixel is the item's index, so that a sample tells where it came
// from; labels cycle through 0..9.
void write_idx_pair(const TempDir& dir, const std::string& prefix, uint32_t count) {
  std::vector<uint8_t> pixels;
  std::vector<uint8_t> labels;
  for (uint32_t i = 0; i < count; ++i) {
    for (uint8_t p = 0; p < 6; ++p) pixels.push_back(static_cast<uint8_t>(i + p));
    labels.push_back(static_cast<uint8_t>(i % 10));
  }
  mlc::test::write_gzip(dir / (prefix + "-images.gz"), idx_bytes({count, 2, 3}, pixels));
  mlc::test::write_gzip(dir / (prefix + "-labels.gz"), idx_bytes({count}, labels));
}

json idx_config(const TempDir& dir, uint32_t train_count = 200, uint32_t test_count = 30) {
  write_idx_pair(dir, "train", train_count);
  write_idx_pair(dir, "test", test_count);
  return {{"format", "idx"},
          {"train_images", (dir / "train-images.gz").string()},
          {"train_labels", (dir / "train-labels.gz").string()},
          {"test_images", (dir / "test-images.gz").string()},
          {"test_labels", (dir / "test-labels.gz").string()}};
}

// The source index of every sample: the first feature, as the fixtures write them.
std::vector<int64_t> sources(const Samples& samples) {
  std::vector<int64_t> indices;
  const auto width = static_cast<size_t>(samples.feature_count());
  for (size_t i = 0; i < samples.labels.size(); ++i) {
    indices.push_back(static_cast<int64_t>(samples.features[i * width]));
  }
  return indices;
}

std::vector<int64_t> range(int64_t count) {
  std::vector<int64_t> values(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) values[static_cast<size_t>(i)] = i;
  return values;
}

// Every split is in ascending source order, no source is in two splits, and together they hold
// all `count` sources.
void check_partition(const std::vector<const Samples*>& splits, int64_t count) {
  std::vector<int64_t> all;
  for (const Samples* samples : splits) {
    const auto indices = sources(*samples);
    CHECK(std::is_sorted(indices.begin(), indices.end()));
    all.insert(all.end(), indices.begin(), indices.end());
  }
  std::sort(all.begin(), all.end());
  CHECK(all == range(count));
}

// A table whose `id` column says which row each sample came from.
json csv_config(const TempDir& dir, int rows) {
  std::string text = "id,x,label\n";
  for (int i = 0; i < rows; ++i) {
    text += std::to_string(i) + "," + std::to_string(i * 0.5) + "," + "abc"[i % 3] + "\n";
  }
  mlc::test::write_file(dir / "table.csv", text);
  return {{"format", "csv"}, {"path", (dir / "table.csv").string()}, {"target", "label"}};
}

}  // namespace

TEST_CASE("Samples::feature_count is the product of the sample shape") {
  Samples samples;
  samples.sample_shape = {28, 28};
  CHECK(samples.feature_count() == 784);
  samples.sample_shape = {13};
  CHECK(samples.feature_count() == 13);
}

TEST_CASE("load_splits splits IDX files") {
  TempDir dir;
  const json config = idx_config(dir);
  const Splits splits = load_splits(config, 42);

  SUBCASE("validation takes a tenth of the training file by default") {
    CHECK(splits.train.count() == 180);
    CHECK(splits.validation.count() == 20);
    check_partition({&splits.train, &splits.validation}, 200);
  }
  SUBCASE("the test split is the test file in order") {
    CHECK(sources(splits.test) == range(30));
    CHECK(splits.test.labels[13] == 3);
  }
  SUBCASE("features are raw pixel values, labels follow their images") {
    CHECK(splits.train.sample_shape == std::vector<int64_t>{2, 3});
    CHECK(splits.validation.sample_shape == std::vector<int64_t>{2, 3});
    CHECK(splits.test.sample_shape == std::vector<int64_t>{2, 3});
    CHECK(splits.test.features.size() == 30 * 6);
    CHECK(std::vector<float>(splits.test.features.begin() + 6 * 29, splits.test.features.end()) ==
          std::vector<float>{29, 30, 31, 32, 33, 34});
    const auto train_sources = sources(splits.train);
    for (size_t i = 0; i < train_sources.size(); ++i) {
      CHECK(splits.train.labels[i] == train_sources[i] % 10);
    }
  }
  SUBCASE("class names default to the label values") {
    CHECK(splits.class_names == Names{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
    CHECK(splits.feature_names.empty());
  }
  SUBCASE("every file is recorded with its role and sha256") {
    REQUIRE(splits.files.size() == 4);
    CHECK(splits.files[0].role == "train_images");
    CHECK(splits.files[1].role == "train_labels");
    CHECK(splits.files[2].role == "test_images");
    CHECK(splits.files[3].role == "test_labels");
    CHECK(splits.files[3].path == (dir / "test-labels.gz").string());
    CHECK(splits.files[3].sha256 == mlc::sha256_file(dir / "test-labels.gz"));
  }
}

TEST_CASE("load_splits applies the IDX options") {
  TempDir dir;
  json config = idx_config(dir);

  SUBCASE("validation_fraction") {
    config["validation_fraction"] = 0.25;
    const Splits splits = load_splits(config, 1);
    CHECK(splits.train.count() == 150);
    CHECK(splits.validation.count() == 50);
  }
  SUBCASE("no validation") {
    config["validation_fraction"] = 0;
    const Splits splits = load_splits(config, 1);
    CHECK(sources(splits.train) == range(200));
    CHECK(splits.validation.count() == 0);
    CHECK(splits.validation.sample_shape == std::vector<int64_t>{2, 3});
  }
  SUBCASE("train_limit and test_limit keep the first items") {
    config["train_limit"] = 50;
    config["test_limit"] = 7;
    const Splits splits = load_splits(config, 1);
    CHECK(splits.train.count() == 45);
    CHECK(splits.validation.count() == 5);
    check_partition({&splits.train, &splits.validation}, 50);
    CHECK(sources(splits.test) == range(7));
  }
  SUBCASE("class_names") {
    const Names names = {"t-shirt", "trouser", "pullover", "dress", "coat",
                         "sandal",  "shirt",   "sneaker",  "bag",   "boot"};
    config["class_names"] = names;
    CHECK(load_splits(config, 1).class_names == names);
  }
  SUBCASE("known classes win over class_names") {
    config["class_names"] = Names{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    const Names known = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"};
    CHECK(load_splits(config, 1, known).class_names == known);
  }
}

TEST_CASE("load_splits gives the same split for the same seed, on every platform") {
  TempDir dir;
  const json config = idx_config(dir);
  const Splits first = load_splits(config, 7);
  const Splits again = load_splits(config, 7);
  CHECK(sources(first.validation) == sources(again.validation));
  CHECK(sources(first.train) == sources(again.train));

  const Splits other = load_splits(config, 8);
  CHECK(sources(first.validation) != sources(other.validation));
  check_partition({&other.train, &other.validation}, 200);

  // Pinned, and checked against an independent Python implementation of mt19937_64 and the same
  // Fisher-Yates: a change here means old seeds give new splits, which needs a release note.
  CHECK(sources(first.validation) == std::vector<int64_t>{0,   7,   12,  13,  35,  55,  64,
                                                          74,  94,  97,  105, 119, 127, 128,
                                                          149, 158, 175, 192, 196, 199});
}

TEST_CASE("load_splits rejects IDX files that do not fit together") {
  TempDir dir;
  json config = idx_config(dir, 20, 10);
  const std::string train_images = (dir / "train-images.gz").string();
  const std::string train_labels = (dir / "train-labels.gz").string();

  SUBCASE("more labels than images") {
    mlc::test::write_gzip(dir / "train-labels.gz", idx_bytes({21}, std::vector<uint8_t>(21, 1)));
    REQUIRE_THROWS_WITH_AS(load_splits(config, 1),
                           (train_labels + ": 21 labels for 20 images in " + train_images).c_str(),
                           mlc::Error);
  }
  SUBCASE("a label beyond the class names") {
    std::vector<uint8_t> labels(20, 1);
    labels[17] = 3;
    mlc::test::write_gzip(dir / "train-labels.gz", idx_bytes({20}, labels));
    config["class_names"] = Names{"a", "b", "c"};
    REQUIRE_THROWS_WITH_AS(
        load_splits(config, 1),
        (train_labels + ": item 17 has label 3, but there are only 3 classes").c_str(), mlc::Error);
  }
  SUBCASE("a test label beyond the known classes") {
    std::vector<uint8_t> labels(10, 0);
    labels[4] = 12;
    mlc::test::write_gzip(dir / "test-labels.gz", idx_bytes({10}, labels));
    const std::string test_labels = (dir / "test-labels.gz").string();
    const Names known = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    REQUIRE_THROWS_WITH_AS(
        load_splits(config, 1, known),
        (test_labels + ": item 4 has label 12, but there are only 10 classes").c_str(), mlc::Error);
  }
  SUBCASE("images that are not 3-d") {
    mlc::test::write_gzip(dir / "train-images.gz", idx_bytes({20, 6}, std::vector<uint8_t>(120)));
    REQUIRE_THROWS_WITH_AS(
        load_splits(config, 1),
        (train_images + ": expected 3 dimensions (count, rows, columns), found 2").c_str(),
        mlc::Error);
  }
  SUBCASE("labels that are not 1-d") {
    mlc::test::write_gzip(dir / "train-labels.gz", idx_bytes({20, 1}, std::vector<uint8_t>(20)));
    REQUIRE_THROWS_WITH_AS(load_splits(config, 1),
                           (train_labels + ": expected 1 dimension (count), found 2").c_str(),
                           mlc::Error);
  }
  SUBCASE("test images of another size") {
    const std::string test_images = (dir / "test-images.gz").string();
    mlc::test::write_gzip(dir / "test-images.gz", idx_bytes({10, 3, 2}, std::vector<uint8_t>(60)));
    REQUIRE_THROWS_WITH_AS(
        load_splits(config, 1),
        (test_images + ": images are 3x2, but the training images in " + train_images + " are 2x3")
            .c_str(),
        mlc::Error);
  }
  SUBCASE("a missing file") {
    std::filesystem::remove(dir / "test-labels.gz");
    const std::string test_labels = (dir / "test-labels.gz").string();
    REQUIRE_THROWS_WITH_AS(load_splits(config, 1),
                           ("cannot open " + test_labels + ": No such file or directory").c_str(),
                           mlc::Error);
  }
}

TEST_CASE("load_splits rejects a data config it cannot use") {
  TempDir dir;
  json config = idx_config(dir, 20, 10);

  SUBCASE("missing key") {
    config.erase("test_labels");
    REQUIRE_THROWS_WITH_AS(load_splits(config, 1), "data config: missing key 'test_labels'",
                           mlc::Error);
  }
  SUBCASE("unknown format") {
    config["format"] = "parquet";
    REQUIRE_THROWS_WITH_AS(load_splits(config, 1),
                           "data config: unknown format \"parquet\" (expected \"idx\" or \"csv\")",
                           mlc::Error);
  }
  SUBCASE("fraction out of range") {
    config["validation_fraction"] = 1.5;
    REQUIRE_THROWS_WITH_AS(
        load_splits(config, 1),
        "data config: 'validation_fraction' must be a number from 0 to 1, found 1.5", mlc::Error);
  }
  SUBCASE("negative limit") {
    config["train_limit"] = -3;
    REQUIRE_THROWS_WITH_AS(
        load_splits(config, 1),
        "data config: 'train_limit' must be a whole number of at least 0, found -3", mlc::Error);
  }
  SUBCASE("not an object") {
    REQUIRE_THROWS_WITH_AS(load_splits(json::array(), 1), "data config: expected an object",
                           mlc::Error);
  }
}

TEST_CASE("load_splits splits a CSV table") {
  const json config = {{"format", "csv"},
                       {"path", std::string(MLC_TEST_DATA_DIR) + "/wine.csv"},
                       {"target", "class"}};
  const Splits splits = load_splits(config, 42);

  SUBCASE("a fifth for test, a tenth of the rest for validation") {
    CHECK(splits.test.count() == 36);        // round(0.2 * 178)
    CHECK(splits.validation.count() == 14);  // round(0.1 * 142)
    CHECK(splits.train.count() == 128);
  }
  SUBCASE("features, names and classes") {
    CHECK(splits.train.sample_shape == std::vector<int64_t>{13});
    CHECK(splits.test.features.size() == 36 * 13);
    REQUIRE(splits.feature_names.size() == 13);
    CHECK(splits.feature_names.front() == "alcohol");
    CHECK(splits.feature_names.back() == "proline");
    CHECK(splits.class_names == Names{"0", "1", "2"});
    REQUIRE(splits.files.size() == 1);
    CHECK(splits.files[0].role == "path");
    CHECK(splits.files[0].sha256 == mlc::sha256_file(config["path"].get<std::string>()));
  }
}

TEST_CASE("load_splits partitions CSV rows deterministically") {
  TempDir dir;
  json config = csv_config(dir, 100);
  config["test_fraction"] = 0.3;
  config["validation_fraction"] = 0.2;
  const Splits splits = load_splits(config, 3);
  CHECK(splits.test.count() == 30);
  CHECK(splits.validation.count() == 14);
  CHECK(splits.train.count() == 56);
  check_partition({&splits.train, &splits.validation, &splits.test}, 100);
  CHECK(splits.class_names == Names{"a", "b", "c"});
  CHECK(splits.feature_names == Names{"id", "x"});
  CHECK(splits.test.features[1] == splits.test.features[0] * 0.5f);

  const Splits again = load_splits(config, 3);
  CHECK(sources(again.test) == sources(splits.test));
  CHECK(sources(again.validation) == sources(splits.validation));
  CHECK(sources(load_splits(config, 4).test) != sources(splits.test));
}

TEST_CASE("load_splits uses a whole CSV file for test when test_fraction is 1") {
  TempDir dir;
  json config = csv_config(dir, 12);
  config["test_fraction"] = 1.0;
  const Splits splits = load_splits(config, 9);
  CHECK(sources(splits.test) == range(12));
  CHECK(splits.train.count() == 0);
  CHECK(splits.validation.count() == 0);
  CHECK(splits.train.sample_shape == std::vector<int64_t>{2});
}

TEST_CASE("load_splits keeps train_limit training rows of a CSV, drawn with the split seed") {
  TempDir dir;
  const json config = csv_config(dir, 100);
  const Splits whole = load_splits(config, 3);
  REQUIRE(whole.train.count() == 72);  // 100 - 20 test - 8 validation

  json limited = config;
  limited["train_limit"] = 10;
  const Splits few = load_splits(limited, 3);
  const auto whole_train = sources(whole.train);
  const auto few_train = sources(few.train);
  REQUIRE(few_train.size() == 10);
  CHECK(std::is_sorted(few_train.begin(), few_train.end()));  // in file order, as every split
  CHECK(std::includes(whole_train.begin(), whole_train.end(), few_train.begin(), few_train.end()));
  // Not the file's first rows, which a table sorted by class would fill with one class.
  CHECK(few_train != std::vector<int64_t>(whole_train.begin(), whole_train.begin() + 10));
  CHECK(sources(load_splits(limited, 3).train) == few_train);  // the same every time
  CHECK(sources(few.test) == sources(whole.test));
  CHECK(sources(few.validation) == sources(whole.validation));
  CHECK(few.test_fingerprint == whole.test_fingerprint);

  limited["train_limit"] = 1000;  // more than there are: all of them
  CHECK(sources(load_splits(limited, 3).train) == whole_train);
}

TEST_CASE("load_splits reads a CSV table gzipped or with another delimiter") {
  TempDir dir;
  const std::string text = "size;colour;y\n1.5;red;a\n2;blue;b\n3;red;a\n4;green;b\n5;red;a\n";
  const json base = {{"format", "csv"}, {"target", "y"}, {"test_fraction", 0.4},
                     {"categorical", {"colour"}}};

  SUBCASE("gzipped: the file is recorded by the sha256 of its gzipped bytes") {
    mlc::test::write_gzip(dir / "t.csv.gz", "size,y\n1,a\n2,b\n3,a\n4,b\n5,a\n");
    json config = {{"format", "csv"}, {"target", "y"}, {"path", (dir / "t.csv.gz").string()}};
    const Splits splits = load_splits(config, 1);
    CHECK(splits.train.count() + splits.validation.count() + splits.test.count() == 5);
    CHECK(splits.files[0].sha256 == mlc::sha256_file(dir / "t.csv.gz"));
  }
  SUBCASE("sniffed ';', or given") {
    json config = base;
    config["path"] = dir.write("t.csv", text).string();
    CHECK(load_splits(config, 1).feature_names == Names{"size", "colour"});
    config["delimiter"] = ";";
    CHECK(load_splits(config, 1).feature_names == Names{"size", "colour"});
  }
  SUBCASE("a given delimiter wins over the sniffed one") {
    json config = base;
    config["path"] = dir.write("t.csv", "a,b;c;y\n1,2;3;x\n4,5;6;z\n").string();
    config.erase("categorical");
    config["delimiter"] = ",";
    REQUIRE_THROWS_WITH_AS(load_splits(config, 1),
                           (config["path"].get<std::string>() +
                            ": no column named 'y' (columns: a, b;c;y)").c_str(),
                           mlc::Error);
  }
  SUBCASE("a delimiter that is not one character of , ; tab |") {
    json config = base;
    config["path"] = dir.write("t.csv", text).string();
    config["delimiter"] = ";;";
    REQUIRE_THROWS_WITH_AS(
        load_splits(config, 1),
        "data config: 'delimiter' must be one character of \",\", \";\", \"\\t\", \"|\", found \";;\"",
        mlc::Error);
  }
}

TEST_CASE("load_splits orders CSV classes") {
  TempDir dir;
  const auto path = dir / "classes.csv";
  const json config = {{"format", "csv"}, {"path", path.string()}, {"target", "y"}};

  SUBCASE("numerically when every value is a number") {
    mlc::test::write_file(path, "x,y\n1,10\n2,2\n3,-1\n4,1.5\n5,2\n");
    const Splits splits = load_splits(config, 1);
    CHECK(splits.class_names == Names{"-1", "1.5", "2", "10"});
  }
  SUBCASE("by bytes otherwise") {
    mlc::test::write_file(path, "x,y\n1,10\n2,b\n3,B\n4,a\n5,2\n");
    const Splits splits = load_splits(config, 1);
    CHECK(splits.class_names == Names{"10", "2", "B", "a", "b"});
  }
}

TEST_CASE("load_splits maps CSV targets onto known classes") {
  TempDir dir;
  const auto path = dir / "eval.csv";
  json config = {{"format", "csv"}, {"path", path.string()}, {"target", "y"}, {"test_fraction", 1}};
  mlc::test::write_file(path, "x,y\n1,b\n2,d\n3,b\n");

  SUBCASE("by name") {
    const Splits splits = load_splits(config, 1, {"a", "b", "c", "d"});
    CHECK(splits.class_names == Names{"a", "b", "c", "d"});
    CHECK(splits.test.labels == std::vector<int64_t>{1, 3, 1});
  }
  SUBCASE("a value the model does not know") {
    REQUIRE_THROWS_WITH_AS(
        load_splits(config, 1, {"a", "b", "c"}),
        (path.string() + ":3: target value 'd' is not one of the model's classes (a, b, c)")
            .c_str(),
        mlc::Error);
  }
}

TEST_CASE("load_splits rejects CSV cells it cannot use") {
  TempDir dir;
  const auto path = dir / "bad.csv";
  const std::string p = path.string();
  const json config = {{"format", "csv"}, {"path", p}, {"target", "y"}};
  const auto rejects = [&](const std::string& text, const std::string& message) {
    mlc::test::write_file(path, text);
    REQUIRE_THROWS_WITH_AS(load_splits(config, 1), message.c_str(), mlc::Error);
  };

  SUBCASE("unknown target") {
    rejects("a,b,c\n1,2,3\n", p + ": no column named 'y' (columns: a, b, c)");
  }
  SUBCASE("not a number") {
    rejects("a,y\n1,x\nabc,x\n", p + ":3: column 'a': 'abc' is not a number (list the column in data.categorical if it holds categories)");
  }
  SUBCASE("a number with trailing text") {
    rejects("a,y\n1.5kg,x\n", p + ":2: column 'a': '1.5kg' is not a number (list the column in data.categorical if it holds categories)");
  }
  SUBCASE("a missing cell with drop_row leaves no rows") {
    mlc::test::write_file(path, "a,y\nNA,x\n");
    json dropping = config;
    dropping["impute"] = {{"strategy", "drop_row"}};
    REQUIRE_THROWS_WITH_AS(load_splits(dropping, 1),
                           (p + ": no rows without missing values (impute: drop_row)").c_str(),
                           mlc::Error);
  }
  SUBCASE("nan and infinity") {
    rejects("a,y\nnan,x\n", p + ":2: column 'a': 'nan' is not a number (list the column in data.categorical if it holds categories)");
    rejects("a,y\n1,x\n-inf,x\n", p + ":3: column 'a': '-inf' is not a finite number that fits a 32-bit float");
  }
  SUBCASE("beyond a float") {
    rejects("a,y\n1e300,x\n", p + ":2: column 'a': '1e300' is not a finite number that fits a 32-bit float");
    rejects("a,y\n1e400,x\n", p + ":2: column 'a': '1e400' is not a finite number that fits a 32-bit float");
  }
  SUBCASE("a non-finite regression target") {
    json regression = config;
    regression["task"] = "regression";
    mlc::test::write_file(path, "a,y\n1,2.5\n2,inf\n");
    REQUIRE_THROWS_WITH_AS(load_splits(regression, 1),
                           (p + ":3: column 'y': 'inf' is not a finite number that fits a 32-bit float").c_str(),
                           mlc::Error);
  }
  SUBCASE("empty target") { rejects("a,y\n1,x\n2,\n", p + ":3: column 'y': missing target value"); }
  SUBCASE("a column twice in the header") {
    rejects("a,b,a,y\n1,2,3,x\n", p + ":1: columns 1 and 3 are both named 'a'");
  }
  SUBCASE("a column named twice, unknown or the target in data.categorical") {
    mlc::test::write_file(path, "a,b,y\n1,red,x\n");
    json named = config;
    named["categorical"] = {"b", "b"};
    REQUIRE_THROWS_WITH_AS(load_splits(named, 1), "data.categorical[1]: column 'b' is named twice",
                           mlc::Error);
    named["categorical"] = {"colour"};
    REQUIRE_THROWS_WITH_AS(load_splits(named, 1),
                           ("data.categorical[0]: " + p + " has no column 'colour' (columns: a, b, y)").c_str(),
                           mlc::Error);
    named["categorical"] = {"y"};
    REQUIRE_THROWS_WITH_AS(load_splits(named, 1), "data.categorical[0]: 'y' is the target column",
                           mlc::Error);
    named["categorical"] = {"b"};
    named["ignore"] = {"b"};
    REQUIRE_THROWS_WITH_AS(load_splits(named, 1),
                           "data.ignore: column 'b' is also listed in data.categorical", mlc::Error);
  }
  SUBCASE("a regression target that is not a number") {
    json regression = config;
    regression["task"] = "regression";
    mlc::test::write_file(path, "a,y\n1,2.5\n2,high\n");
    REQUIRE_THROWS_WITH_AS(
        load_splits(regression, 1),
        (p + ":3: column 'y': 'high' is not a number (a regression target must be one)").c_str(),
        mlc::Error);
  }
  SUBCASE("no rows") { rejects("a,y\n", p + ": no rows after the header"); }
  SUBCASE("no feature columns") { rejects("y\nx\n", p + ": no feature columns besides 'y'"); }
}

TEST_CASE("load_splits accepts the number formats spreadsheets write") {
  TempDir dir;
  const auto path = dir / "numbers.csv";
  mlc::test::write_file(path, "a,b,c,y\n +1.5 ,-2e3,\"7\",x\n");
  const json config = {
      {"format", "csv"}, {"path", path.string()}, {"target", "y"}, {"test_fraction", 1}};
  CHECK(load_splits(config, 1).test.features == std::vector<float>{1.5f, -2000.0f, 7.0f});
}

TEST_CASE("load_splits encodes missing cells, categories and regression targets") {
  TempDir dir;
  const auto path = dir / "mixed.csv";
  // Rows in file order; test_fraction 0 and validation_fraction 0 keep them all in train.
  mlc::test::write_file(path,
                        "id,size,colour,price\n"
                        "1,1.5,red,10\n"
                        "2,NA,blue,12.5\n"
                        "3,,red,NaN\n"
                        "4,2.5,NaN,9\n");
  json config = {{"format", "csv"}, {"path", path.string()}, {"target", "price"},
                 {"task", "regression"}, {"categorical", {"colour"}}, {"ignore", {"id"}},
                 {"test_fraction", 0.0}, {"validation_fraction", 0.0}};

  SUBCASE("a missing target is refused") {
    REQUIRE_THROWS_WITH_AS(load_splits(config, 1),
                           (path.string() + ":4: column 'price': missing target value").c_str(),
                           mlc::Error);
  }
  mlc::test::write_file(path,
                        "id,size,colour,price\n"
                        "1,1.5,red,10\n"
                        "2,NA,blue,12.5\n"
                        "3,,red,7\n"
                        "4,2.5,NaN,9\n");
  SUBCASE("missing cells are NaN, categories are codes of the sorted training values") {
    const Splits splits = load_splits(config, 1);
    CHECK(splits.feature_names == std::vector<std::string>{"size", "colour"});
    CHECK(splits.columns.categories ==
          std::vector<std::vector<std::string>>{{}, {"blue", "red"}});
    CHECK(splits.target == "price");
    CHECK(splits.class_names.empty());
    CHECK(splits.train.values == std::vector<float>{10, 12.5, 7, 9});
    CHECK(splits.train.labels.empty());
    const auto& f = splits.train.features;
    REQUIRE(f.size() == 8);
    CHECK(f[0] == 1.5F);
    CHECK(f[1] == 1.0F);  // red
    CHECK(std::isnan(f[2]));
    CHECK(f[3] == 0.0F);  // blue
    CHECK(std::isnan(f[4]));
    CHECK(std::isnan(f[7]));  // missing category
  }
  SUBCASE("drop_row leaves out rows with a missing feature") {
    config["impute"] = {{"strategy", "drop_row"}};
    const Splits splits = load_splits(config, 1);
    CHECK(splits.train.values == std::vector<float>{10});
  }
  SUBCASE("known columns fix the codes; an unseen category is NaN") {
    mlc::data::TableColumns known{{"size", "colour"}, {{}, {"green", "red"}}};
    const Splits splits = load_splits(config, 1, {}, &known);
    CHECK(splits.train.features[1] == 1.0F);  // red
    CHECK(std::isnan(splits.train.features[3]));  // blue: not a category of the model
  }
}

TEST_CASE("test_fingerprint names the test samples: the files by sha256 and the rows taken") {
  const std::string wine = std::string(MLC_TEST_DATA_DIR) + "/wine.csv";
  const json config = {{"format", "csv"}, {"path", wine}, {"target", "class"}};
  const Splits first = load_splits(config, 42);
  REQUIRE(first.test_fingerprint.size() == 64);
  CHECK(load_splits(config, 42).test_fingerprint == first.test_fingerprint);
  CHECK(load_splits(config, 43).test_fingerprint != first.test_fingerprint);  // other rows
  json explicit_delimiter = config;
  explicit_delimiter["delimiter"] = ",";  // what sniffing finds: the same samples
  CHECK(load_splits(explicit_delimiter, 42).test_fingerprint == first.test_fingerprint);
  json everything = config;
  everything["test_fraction"] = 1.0;  // the same file, every row
  CHECK(load_splits(everything, 42).test_fingerprint != first.test_fingerprint);

  SUBCASE("wherever the file lies") {
    TempDir dir;
    std::filesystem::copy_file(wine, dir / "copy.csv");
    json moved = config;
    moved["path"] = (dir / "copy.csv").string();
    CHECK(load_splits(moved, 42).test_fingerprint == first.test_fingerprint);
  }
  SUBCASE("an IDX test set: its files and how many of its items, whatever the training files") {
    TempDir dir;
    const json idx = idx_config(dir);
    const Splits whole = load_splits(idx, 1);
    CHECK(load_splits(idx, 2).test_fingerprint == whole.test_fingerprint);
    json fewer_train = idx;
    fewer_train["train_limit"] = 50;
    CHECK(load_splits(fewer_train, 1).test_fingerprint == whole.test_fingerprint);
    json fewer_test = idx;
    fewer_test["test_limit"] = 3;
    CHECK(load_splits(fewer_test, 1).test_fingerprint != whole.test_fingerprint);
  }
}

TEST_CASE("split_seed: data.split_seed, else training.seed for configs made before it existed") {
  json config = {{"data", {{"format", "csv"}}}, {"training", {{"seed", 42}}}};
  CHECK(mlc::data::split_seed(config) == 42);
  config["data"]["split_seed"] = 0;
  CHECK(mlc::data::split_seed(config) == 0);
  config["data"]["split_seed"] = -1;
  CHECK_THROWS_AS(mlc::data::split_seed(config), mlc::Error);
}

TEST_CASE("test_fingerprint: what a row's sample is counts too (target, missing values, rows dropped)") {
  TempDir dir;
  // 40 rows; the categorical column c holds "?" on one row and "unknown" on another.
  std::string text = "x,c,y\n";
  for (int i = 0; i < 40; ++i) {
    const std::string category = i == 3 ? "?" : i == 17 ? "unknown" : (i % 2 ? "a" : "b");
    text += std::to_string(i) + "," + category + "," + std::to_string(i % 3) + "\n";
  }
  const auto file = dir / "t.csv";
  std::ofstream(file) << text;
  json question = {{"format", "csv"}, {"path", file.string()}, {"target", "y"}, {"categorical", {"c"}},
                   {"missing_values", {"?"}}, {"impute", {{"strategy", "drop_row"}}}};
  json unknown = question;
  unknown["missing_values"] = {"unknown"};
  const Splits by_question = load_splits(question, 5), by_unknown = load_splits(unknown, 5);
  CHECK(by_question.test.count() == by_unknown.test.count());
  CHECK(by_question.test_fingerprint != by_unknown.test_fingerprint);
  json regression = question;
  regression["target"] = "x";
  regression["task"] = "regression";
  regression["categorical"] = json::array({"c"});
  CHECK(load_splits(regression, 5).test_fingerprint != by_question.test_fingerprint);
}
