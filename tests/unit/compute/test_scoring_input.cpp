#include "torch_doctest.hpp"  // first: see why there

#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <sstream>

#include <torch/csrc/jit/api/module.h>

#include "compute_fixtures.hpp"
#include "inference/inference_model.hpp"
#include "mlc/error.hpp"
#include "scoring/scoring_input.hpp"

using mlc::compute::InferenceModel;
using mlc::test::TempDir;
using mlc::test::write_file;
namespace scoring = mlc::compute::scoring;

namespace {

// A model that returns its input's first two values: the readers only need its manifest.
InferenceModel model_taking(const std::vector<int64_t>& sample_shape,
                            nlohmann::json extra = nlohmann::json::object()) {
  torch::jit::Module module("FirstTwo");
  module.define("def forward(self, x):\n    return x.reshape([x.size(0), -1])[:, 0:2]\n");
  std::ostringstream bytes;
  module.save(bytes);
  std::vector<int64_t> shape = {-1};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  nlohmann::json manifest = {
      {"name", "m"},
      {"versions", {"1"}},
      {"inputs", {{{"name", "input"}, {"datatype", "FP32"}, {"shape", shape}}}},
      {"outputs", {{{"name", "logits"}, {"datatype", "FP32"}, {"shape", {-1, 2}}}}},
      {"labels", {"a", "b"}}};
  manifest.update(extra);
  return InferenceModel(bytes.str(), manifest, "test model");
}

InferenceModel table_model() {
  return model_taking({3}, {{"feature_names", {"x", "color", "z"}},
                            {"preprocessing",
                             {{"steps",
                               {{{"op", "one_hot"},
                                 {"columns", {{{"name", "color"}, {"categories", {"blue", "red"}}}}}}}}}}});
}

std::string gzipped(const std::string& text, const std::filesystem::path& dir) {
  const auto file = dir / "gz";
  gzFile out = gzopen(file.c_str(), "wb");
  gzwrite(out, text.data(), static_cast<unsigned>(text.size()));
  gzclose(out);
  return mlc::test::read_file(file);
}

// An 8-bit grayscale PNG, filter 0 on every row.
std::string png(int width, int height, const std::vector<uint8_t>& pixels) {
  const auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  const auto chunk = [&](const std::string& kind, const std::string& data) {
    const std::string body = kind + data;
    const auto crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
    return be32(static_cast<uint32_t>(data.size())) + body + be32(static_cast<uint32_t>(crc));
  };
  std::string raw;
  for (int y = 0; y < height; ++y) {
    raw += '\0';
    raw.append(reinterpret_cast<const char*>(pixels.data()) + y * width, static_cast<size_t>(width));
  }
  std::string packed(compressBound(static_cast<uLong>(raw.size())), '\0');
  uLongf packed_size = packed.size();
  compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
           reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()));
  packed.resize(packed_size);
  const std::string header = be32(static_cast<uint32_t>(width)) + be32(static_cast<uint32_t>(height)) +
                             std::string{8, 0, 0, 0, 0};
  return "\x89PNG\r\n\x1a\n" + chunk("IHDR", header) + chunk("IDAT", packed) + chunk("IEND", "");
}

std::vector<float> values_of(const torch::Tensor& tensor) {
  const torch::Tensor flat = tensor.contiguous().reshape({-1});
  return {flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel()};
}

}  // namespace

TEST_CASE("read_csv_input finds the features by name, encodes cells and passes the rest through") {
  TempDir dir;
  const auto file = dir / "new.csv";
  write_file(file, "z,id,color,x\n3,a1,red,1.5\nNA,a2,green,\n");
  const scoring::ScoringInput input = scoring::read_csv_input(file, table_model());
  CHECK(input.kind == "csv");
  CHECK(input.columns == std::vector<std::string>{"id"});
  CHECK(input.passed == std::vector<std::vector<std::string>>{{"a1"}, {"a2"}});
  CHECK(input.origins == std::vector<std::string>{file.string() + ":2", file.string() + ":3"});
  const std::vector<float> values = values_of(input.batch);
  REQUIRE(values.size() == 6);
  CHECK(values[0] == 1.5f);  // x
  CHECK(values[1] == 1.0f);  // "red" is the second category
  CHECK(values[2] == 3.0f);
  CHECK(std::isnan(values[3]));  // missing
  CHECK(std::isnan(values[4]));  // a category training never saw
  CHECK(std::isnan(values[5]));  // "NA"

  SUBCASE("gzipped") {
    const auto gz = dir / "new.csv.gz";
    write_file(gz, gzipped(mlc::test::read_file(file), dir.path()));
    CHECK(values_of(scoring::read_csv_input(gz, table_model()).batch).size() == 6);
    CHECK(scoring::read_csv_input(gz, table_model()).passed == input.passed);
  }
}

TEST_CASE("read_csv_input refuses what it cannot score, naming where") {
  TempDir dir;
  const auto file = dir / "bad.csv";
  SUBCASE("a bad number: file, line and column") {
    write_file(file, "id,x,color,z\n1,2,red,3\n2,abc,red,3\n");
    CHECK_THROWS_WITH_AS(scoring::read_csv_input(file, table_model()),
                         (file.string() + ":3:2: column 'x': 'abc' is not a number").c_str(), mlc::Error);
  }
  SUBCASE("a number as training reads one: spaces around it, but no hex and nothing past a float") {
    write_file(file, "x,color,z\n 2.5 ,red,+3\n0x10,red,1\n");
    CHECK_THROWS_WITH_AS(scoring::read_csv_input(file, table_model()),
                         (file.string() + ":3:1: column 'x': '0x10' is not a number").c_str(), mlc::Error);
    write_file(file, "x,color,z\n 2.5 ,red,+3\n1,red,1e39\n");
    CHECK_THROWS_WITH_AS(scoring::read_csv_input(file, table_model()),
                         (file.string() + ":3:3: column 'z': '1e39' is not a finite number that fits a "
                                          "32-bit float").c_str(),
                         mlc::Error);
    write_file(file, "x,color,z\n 2.5 ,red,+3\n");
    CHECK(values_of(scoring::read_csv_input(file, table_model()).batch) == std::vector<float>{2.5f, 1, 3});
  }
  SUBCASE("a missing feature column") {
    write_file(file, "x,z\n1,2\n");
    CHECK_THROWS_WITH_AS(scoring::read_csv_input(file, table_model()),
                         (file.string() + ": no column 'color' (the model's features: x, color, z)").c_str(),
                         mlc::Error);
  }
  SUBCASE("no rows") {
    write_file(file, "x,color,z\n");
    CHECK_THROWS_WITH_AS(scoring::read_csv_input(file, table_model()),
                         (file.string() + ": no rows after the header").c_str(), mlc::Error);
  }
  SUBCASE("a model that takes images") {
    write_file(file, "x,color,z\n1,red,2\n");
    CHECK_THROWS_WITH_AS(scoring::read_csv_input(file, model_taking({2, 3})),
                         (file.string() + ": a CSV table, but m takes images of [2,3]: give PNG, JPEG or "
                                          "IDX images, or an infer request").c_str(),
                         mlc::Error);
  }
}

TEST_CASE("read_input_file gunzips within the data limit") {
  TempDir dir;
  const std::string text(5000, 'a');
  write_file(dir / "plain", text);
  write_file(dir / "packed", gzipped(text, dir.path()));
  CHECK(scoring::read_input_file(dir / "plain") == text);
  CHECK(scoring::read_input_file(dir / "packed") == text);

  SUBCASE("a truncated stream") {
    const std::string packed = gzipped(text, dir.path());
    write_file(dir / "cut", packed.substr(0, packed.size() / 2));
    CHECK_THROWS_WITH_AS(scoring::read_input_file(dir / "cut"),
                         ((dir / "cut").string() + ": truncated gzip stream").c_str(), mlc::Error);
  }
  SUBCASE("more than MLC_MAX_DATA_BYTES once gunzipped") {
    ::setenv("MLC_MAX_DATA_BYTES", "4096", 1);
    CHECK_THROWS_AS(scoring::read_input_file(dir / "packed"), mlc::Error);
    ::unsetenv("MLC_MAX_DATA_BYTES");
  }
  SUBCASE("a file that does not exist") {
    CHECK_THROWS_WITH_AS(scoring::read_input_file(dir / "absent"),
                         ("cannot open " + (dir / "absent").string() + ": No such file or directory").c_str(),
                         mlc::Error);
  }
}

TEST_CASE("read_image_input decodes a PNG, or a directory's images in name order, at the model's size") {
  TempDir dir;
  const InferenceModel model = model_taking({2, 3});
  write_file(dir / "b.png", png(3, 2, {0, 1, 2, 3, 4, 255}));
  const scoring::ScoringInput one = scoring::read_image_input(dir / "b.png", model);
  CHECK(one.kind == "images");
  CHECK(one.columns == std::vector<std::string>{"file"});
  CHECK(one.passed == std::vector<std::vector<std::string>>{{"b.png"}});
  CHECK(values_of(one.batch) == std::vector<float>{0, 1, 2, 3, 4, 255});

  std::filesystem::create_directory(dir / "many");
  write_file(dir / "many" / "b.PNG", png(3, 2, {9, 9, 9, 9, 9, 9}));
  write_file(dir / "many" / "a.png", png(3, 2, {1, 1, 1, 1, 1, 1}));
  write_file(dir / "many" / "notes.txt", "not an image");
  const scoring::ScoringInput many = scoring::read_image_input(dir / "many", model);
  CHECK(many.passed == std::vector<std::vector<std::string>>{{"a.png"}, {"b.PNG"}});
  CHECK(many.batch.sizes().vec() == std::vector<int64_t>{2, 2, 3});

  SUBCASE("another size, refused from the header") {
    write_file(dir / "wide.png", png(4, 2, {0, 0, 0, 0, 0, 0, 0, 0}));
    CHECK_THROWS_WITH_AS(scoring::read_image_input(dir / "wide.png", model),
                         ((dir / "wide.png").string() +
                          ": the image is 4x2 pixels, the model takes 3x2 (width x height)").c_str(),
                         mlc::Error);
  }
  SUBCASE("not an image") {
    write_file(dir / "fake.png", "not a png at all");
    CHECK_THROWS_WITH_AS(scoring::read_image_input(dir / "fake.png", model),
                         ((dir / "fake.png").string() + ": not a PNG or JPEG image (unknown image type)").c_str(),
                         mlc::Error);
  }
  SUBCASE("a directory without images") {
    std::filesystem::create_directory(dir / "empty");
    CHECK_THROWS_WITH_AS(scoring::read_image_input(dir / "empty", model),
                         ((dir / "empty").string() + ": no *.png, *.jpg or *.jpeg files").c_str(), mlc::Error);
  }
  SUBCASE("a table model") {
    CHECK_THROWS_WITH_AS(scoring::read_image_input(dir / "b.png", table_model()),
                         ((dir / "b.png").string() +
                          ": an image, but m takes table rows: give a CSV file or an infer request").c_str(),
                         mlc::Error);
  }
}

TEST_CASE("read_idx_input takes items of the model's sample shape") {
  TempDir dir;
  const std::string header{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3};
  write_file(dir / "two-idx3-ubyte", header + std::string{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  const scoring::ScoringInput input = scoring::read_idx_input(dir / "two-idx3-ubyte", model_taking({2, 3}));
  CHECK(input.passed == std::vector<std::vector<std::string>>{{"0"}, {"1"}});
  CHECK(values_of(input.batch).back() == 12.0f);
  CHECK_THROWS_WITH_AS(scoring::read_idx_input(dir / "two-idx3-ubyte", model_taking({3, 2})),
                       ((dir / "two-idx3-ubyte").string() + ": its items have shape [2,3], m takes [3,2]").c_str(),
                       mlc::Error);
}

TEST_CASE("read_scoring_input chooses the reader by name") {
  TempDir dir;
  write_file(dir / "notes.txt", "x");
  CHECK_THROWS_WITH_AS(scoring::read_scoring_input(dir / "notes.txt", table_model()),
                       ((dir / "notes.txt").string() +
                        ": unknown kind of input; give a CSV table (*.csv, *.csv.gz), PNG or JPEG images "
                        "(*.png, *.jpg, *.jpeg, or a directory of them), IDX images (*-ubyte, *.idx, "
                        "either with .gz) or an infer request (*.json)").c_str(),
                       mlc::Error);
  try {
    scoring::read_scoring_input(dir / "absent.csv", table_model());
    FAIL("an absent file was read");
  } catch (const mlc::Error& error) {
    CHECK(error.kind() == mlc::ErrorKind::not_found);
  }
  write_file(dir / "NEW.CSV.GZ", gzipped("x,color,z\n1,red,2\n", dir.path()));
  CHECK(scoring::read_scoring_input(dir / "NEW.CSV.GZ", table_model()).kind == "csv");
}
