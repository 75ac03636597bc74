#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "mlc/error.hpp"
#include "mlc/json_schema.hpp"
#include "mlc/train_config.hpp"
#include "test_files.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using mlc::test::TempDir;


const char* const kCsvConfig = R"({
  "data": {"format": "csv", "path": "wine.csv", "target": "class"},
  "model": {"architecture": "mlp", "hidden_layers": [64]},
  "training": {"epochs": 5, "batch_size": 32, "seed": 7,
               "optimizer": {"name": "adam", "learning_rate": 0.001}}
})";

const char* const kIdxConfig = R"({
  "$schema": "https://mlc.dev/schemas/train-config.schema.json",
  "data": {"format": "idx",
           "train_images": "fashion/train-images-idx3-ubyte.gz",
           "train_labels": "./fashion/train-labels-idx1-ubyte.gz",
           "test_images": "../shared/t10k-images-idx3-ubyte.gz",
           "test_labels": "/srv/data/../fashion/t10k-labels-idx1-ubyte.gz",
           "class_names": ["T-shirt", "Trouser"]},
  "model": {"architecture": "mlp", "hidden_layers": [256, 128], "activation": "gelu",
            "dropout": 0.2},
  "training": {"epochs": 2, "batch_size": 64, "seed": 1, "threads": 4,
               "optimizer": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9}}
})";

json load_csv_config(const TempDir& dir, const std::vector<std::string>& overrides = {}) {
  return mlc::load_train_config(dir.write("mlp.json", kCsvConfig), overrides);
}

// The message a schema violation in `dir`'s mlp.json gets.
std::string schema_error(const TempDir& dir, const std::string& rest) {
  return (dir.path() / "mlp.json").string() + ": " + rest;
}

}  // namespace

TEST_CASE("load_train_config: defaults") {
  TempDir dir;

  SUBCASE("csv") {
    json config = load_csv_config(dir);
    CHECK(config["data"]["test_fraction"] == 0.2);
    CHECK(config["data"]["validation_fraction"] == 0.1);
    CHECK(config["model"]["activation"] == "relu");
    CHECK(config["model"]["dropout"] == 0);
    CHECK(config["training"]["optimizer"]["weight_decay"] == 0);
    // The branch of the optimizer that "name" selects gives its defaults, and only its own.
    CHECK(config["training"]["optimizer"]["betas"] == json({0.9, 0.999}));
    CHECK_FALSE(config["training"]["optimizer"].contains("momentum"));
    CHECK(config["training"]["keep"] == "best");
    CHECK_FALSE(config["training"].contains("schedule"));
    CHECK_FALSE(config["training"].contains("threads"));  // absent means all cores
  }
  SUBCASE("idx has no test_fraction, and given values are kept") {
    json config = mlc::load_train_config(dir.write("sub/mlp.json", kIdxConfig), {});
    CHECK(config["data"]["validation_fraction"] == 0.1);
    CHECK_FALSE(config["data"].contains("test_fraction"));
    CHECK(config["model"]["activation"] == "gelu");
    CHECK(config["model"]["dropout"] == 0.2);
    CHECK(config["training"]["optimizer"]["momentum"] == 0.9);
    CHECK(config["training"]["threads"] == 4);
  }
}

TEST_CASE("load_train_config: data paths are made absolute against the config's directory") {
  TempDir dir;

  SUBCASE("csv") {
    json config = load_csv_config(dir);
    CHECK(config["data"]["path"] == (dir.path() / "wine.csv").string());
  }
  SUBCASE("idx") {
    json config = mlc::load_train_config(dir.write("sub/mlp.json", kIdxConfig), {});
    const json& data = config["data"];
    CHECK(data["train_images"] == (dir.path() / "sub/fashion/train-images-idx3-ubyte.gz").string());
    CHECK(data["train_labels"] == (dir.path() / "sub/fashion/train-labels-idx1-ubyte.gz").string());
    CHECK(data["test_images"] == (dir.path() / "shared/t10k-images-idx3-ubyte.gz").string());
    CHECK(data["test_labels"] == "/srv/fashion/t10k-labels-idx1-ubyte.gz");
    CHECK(data["class_names"] == json({"T-shirt", "Trouser"}));
  }
}

namespace {

// Runs a test from another working directory, and goes back to the old one afterwards.
class ScopedCurrentPath {
 public:
  explicit ScopedCurrentPath(const fs::path& path) : previous_(fs::current_path()) {
    fs::current_path(path);
  }
  ~ScopedCurrentPath() { fs::current_path(previous_); }
  ScopedCurrentPath(const ScopedCurrentPath&) = delete;
  ScopedCurrentPath& operator=(const ScopedCurrentPath&) = delete;

 private:
  fs::path previous_;
};

}  // namespace

TEST_CASE("load_train_config: a data path is resolved against where it was written") {
  TempDir dir;
  const fs::path config = dir.write("configs/mlp.json", kCsvConfig);
  fs::create_directories(dir / "work");
  const ScopedCurrentPath in_work(dir / "work");

  SUBCASE("in the config file: against the file's directory, from any directory") {
    CHECK(mlc::load_train_config(config, {})["data"]["path"] ==
          (dir.path() / "configs/wine.csv").string());
    CHECK(mlc::load_train_config("../configs/mlp.json", {})["data"]["path"] ==
          (dir.path() / "configs/wine.csv").string());
  }
  SUBCASE("with --set: against the current directory") {
    CHECK(mlc::load_train_config(config, {"data.path=rel.csv"})["data"]["path"] ==
          (dir.path() / "work/rel.csv").string());
    CHECK(mlc::load_train_config(config, {"data.path=../data/./t.csv.gz"})["data"]["path"] ==
          (dir.path() / "data/t.csv.gz").string());
  }
  SUBCASE("a whole data object with --set: its file names too") {
    const json data = mlc::load_train_config(
        config, {R"(data={"format": "csv", "path": "t.csv", "target": "y"})"})["data"];
    CHECK(data["path"] == (dir.path() / "work/t.csv").string());
  }
  SUBCASE("--set of another data key leaves the file's path to the file") {
    CHECK(mlc::load_train_config(config, {"data.target=quality"})["data"]["path"] ==
          (dir.path() / "configs/wine.csv").string());
  }
  SUBCASE("an absolute name stays as it is") {
    CHECK(mlc::load_train_config(config, {"data.path=/srv/tables/t.csv"})["data"]["path"] ==
          "/srv/tables/t.csv");
  }
}

TEST_CASE("load_train_config: --set overrides") {
  TempDir dir;

  SUBCASE("a number") {
    CHECK(load_csv_config(dir, {"training.epochs=3"})["training"]["epochs"] == 3);
    CHECK(load_csv_config(dir, {"training.optimizer.learning_rate=0.01"})["training"]["optimizer"]
                                                                         ["learning_rate"] == 0.01);
  }
  SUBCASE("a bare string") {
    CHECK(load_csv_config(dir, {"training.optimizer.name=sgd"})["training"]["optimizer"]["name"] ==
          "sgd");
  }
  SUBCASE("a quoted JSON string keeps what would otherwise be a number") {
    CHECK(load_csv_config(dir, {R"(data.target="7")"})["data"]["target"] == "7");
  }
  SUBCASE("an array") {
    CHECK(load_csv_config(dir, {"model.hidden_layers=[256,128]"})["model"]["hidden_layers"] ==
          json({256, 128}));
  }
  SUBCASE("a new key in a nested object") {
    CHECK(load_csv_config(dir, {"training.threads=2"})["training"]["threads"] == 2);
  }
  SUBCASE("a file name, resolved against the current directory") {
    CHECK(load_csv_config(dir, {"data.path=other/data.csv"})["data"]["path"] ==
          (fs::current_path() / "other/data.csv").string());
  }
  SUBCASE("later overrides win") {
    CHECK(load_csv_config(dir, {"training.epochs=3", "training.epochs=4"})["training"]["epochs"] ==
          4);
  }
  SUBCASE("an override is validated like the file") {
    REQUIRE_THROWS_WITH_AS(
        load_csv_config(dir, {"training.epochs=-1"}),
        schema_error(dir, "training.epochs: must be an integer >= 1 and <= 1000000, got -1").c_str(),
        mlc::Error);
  }
}

TEST_CASE("load_train_config: malformed --set") {
  TempDir dir;

  SUBCASE("no equals sign") {
    REQUIRE_THROWS_WITH_AS(load_csv_config(dir, {"abc"}), "--set 'abc': expected KEY=VALUE",
                           mlc::Error);
  }
  SUBCASE("no key") {
    REQUIRE_THROWS_WITH_AS(load_csv_config(dir, {"=5"}), "--set '=5': expected KEY=VALUE",
                           mlc::Error);
  }
  SUBCASE("an empty key in the path") {
    REQUIRE_THROWS_WITH_AS(load_csv_config(dir, {"training..epochs=5"}),
                           "--set 'training..epochs=5': expected KEY=VALUE", mlc::Error);
  }
  SUBCASE("a path through a value that is not an object") {
    REQUIRE_THROWS_WITH_AS(load_csv_config(dir, {"training.epochs.max=5"}),
                           "--set 'training.epochs.max=5': 'training.epochs' is not an object",
                           mlc::Error);
  }
  SUBCASE("the kind is usage") {
    try {
      load_csv_config(dir, {"abc"});
      FAIL("no error thrown");
    } catch (const mlc::Error& error) {
      CHECK(error.kind() == mlc::ErrorKind::usage);
    }
  }
}

TEST_CASE("load_train_config: invalid JSON") {
  TempDir dir;
  fs::path file = dir.write("bad.json", "{\n  \"data\": {},\n  \"model\": [1, 2,]\n}\n");
  REQUIRE_THROWS_WITH_AS(
      mlc::load_train_config(file, {}),
      (file.string() + ":3:18: invalid JSON: unexpected ']'; expected '[', '{', or a literal")
          .c_str(),
      mlc::Error);

  SUBCASE("columns count characters, not bytes") {
    fs::path accented = dir.write("accented.json", "{\"é\": tru}");
    REQUIRE_THROWS_WITH_AS(mlc::load_train_config(accented, {}),
                           (accented.string() + ":1:10: invalid JSON: invalid literal").c_str(),
                           mlc::Error);
  }
  SUBCASE("an empty file") {
    fs::path empty = dir.write("empty.json", "");
    REQUIRE_THROWS_WITH_AS(
        mlc::load_train_config(empty, {}),
        (empty.string() +
         ":1:1: invalid JSON: unexpected end of input; expected '[', '{', or a literal")
            .c_str(),
        mlc::Error);
  }
}

TEST_CASE("load_train_config: schema violations name the key") {
  TempDir dir;
  auto load_with = [&](const std::string& from, const std::string& to) {
    std::string text = kCsvConfig;
    REQUIRE(text.find(from) != std::string::npos);
    text.replace(text.find(from), from.size(), to);
    return mlc::load_train_config(dir.write("mlp.json", text), {});
  };

  SUBCASE("an unknown key") {
    REQUIRE_THROWS_WITH_AS(load_with("\"epochs\"", "\"epoch\""),
                           schema_error(dir, "training: unknown key 'epoch'; did you mean 'epochs'?").c_str(),
                           mlc::Error);
  }
  SUBCASE("an abbreviation edit distance cannot find") {
    REQUIRE_THROWS_WITH_AS(load_with("\"learning_rate\"", "\"lr\""),
                           schema_error(dir, "training.optimizer: unknown key 'lr'; did you mean 'learning_rate'?").c_str(),
                           mlc::Error);
  }
  SUBCASE("a negative learning rate") {
    REQUIRE_THROWS_WITH_AS(
        load_with("0.001", "-0.1"),
        schema_error(dir, "training.optimizer.learning_rate: must be a number > 0, got -0.1")
            .c_str(),
        mlc::Error);
  }
  SUBCASE("a data key of the other format") {
    REQUIRE_THROWS_WITH_AS(load_with("\"path\"", "\"train_images\""),
                           schema_error(dir, "data: unknown key 'train_images'").c_str(),
                           mlc::Error);
  }
  SUBCASE("an unknown data format") {
    REQUIRE_THROWS_WITH_AS(
        load_with("\"csv\"", "\"parquet\""),
        schema_error(dir, R"(data.format: must be one of "idx", "csv", got "parquet")").c_str(),
        mlc::Error);
  }
  SUBCASE("an unknown architecture") {
    REQUIRE_THROWS_WITH_AS(
        load_with("\"mlp\"", "\"resnet\""),
        schema_error(dir, R"(model.architecture: must be one of "mlp", "cnn", "lstm", "gru", )"
                          R"("transformer", got "resnet")")
            .c_str(),
        mlc::Error);
  }
  SUBCASE("the document is not an object") {
    fs::path file = dir.write("list.json", "[]");
    REQUIRE_THROWS_WITH_AS(mlc::load_train_config(file, {}),
                           (file.string() + ": (root): must be an object, got []").c_str(),
                           mlc::Error);
  }
}

TEST_CASE("load_train_config: each architecture's model") {
  TempDir dir;
  // The CSV config with `model` as its model.
  auto load_model = [&](const std::string& model) {
    std::string text = kCsvConfig;
    const std::string mlp = R"({"architecture": "mlp", "hidden_layers": [64]})";
    text.replace(text.find(mlp), mlp.size(), model);
    return mlc::load_train_config(dir.write("mlp.json", text), {})["model"];
  };

  SUBCASE("the example configs pass, with defaults filled in each layer") {
    const fs::path examples = fs::path(MLC_TEST_DATA_DIR) / "../../examples/fashion-mnist";
    for (const char* name : {"mlp.json", "cnn.json", "lstm.json", "gru.json", "transformer.json"}) {
      CAPTURE(name);
      CHECK_NOTHROW(mlc::load_train_config(examples / name, {}));
    }
    const json cnn = mlc::load_train_config(examples / "cnn.json", {})["model"];
    CHECK(cnn["layers"][0] == json::parse(R"({"type": "conv2d", "out_channels": 32,
        "kernel_size": 3, "stride": 1, "padding": 0, "bias": true})"));
    CHECK(cnn["layers"][4] == json::parse(R"({"type": "max_pool2d", "kernel_size": 2,
        "padding": 0})"));  // no stride: a pool's stride is its kernel size
    CHECK(cnn["layers"][5] == json::parse(R"({"type": "dropout", "p": 0.25})"));
    const json transformer = mlc::load_train_config(examples / "transformer.json", {})["model"];
    CHECK(transformer["activation"] == "relu");
    CHECK(transformer["layer_norm_eps"] == 1e-5);
  }
  SUBCASE("defaults of the recurrent models and of init") {
    const json lstm = load_model(R"({"architecture": "lstm", "hidden_size": 8,
                                     "init": {"lstm": "xavier_uniform"}})");
    CHECK(lstm == json::parse(R"({"architecture": "lstm", "hidden_size": 8, "num_layers": 1,
        "bidirectional": false, "dropout": 0, "pooling": "last",
        "init": {"lstm": "xavier_uniform", "normal_std": 0.01}})"));
    CHECK(load_model(R"({"architecture": "mlp", "hidden_layers": []})")["batch_norm"] == false);
  }
  SUBCASE("a bad layer is named by its index") {
    REQUIRE_THROWS_WITH_AS(
        load_model(R"({"architecture": "cnn", "layers": [{"type": "flatten"},
                       {"type": "conv2d", "out_channels": 8, "kernel_size": 0}]})"),
        schema_error(dir, "model.layers[1].kernel_size: must be an integer >= 1 and <= 1000000, got 0").c_str(),
        mlc::Error);
    REQUIRE_THROWS_WITH_AS(
        load_model(R"({"architecture": "cnn", "layers": [{"type": "conv3d"}]})"),
        schema_error(dir, R"(model.layers[0].type: must be one of "conv2d", "max_pool2d", )"
                          R"("avg_pool2d", "batch_norm", "dropout", "flatten", "linear", "relu", )"
                          R"("gelu", "tanh", "sigmoid", got "conv3d")")
            .c_str(),
        mlc::Error);
    REQUIRE_THROWS_WITH_AS(
        load_model(R"({"architecture": "cnn", "layers": [{"type": "max_pool2d",
                       "kernel_size": 2, "strides": 2}]})"),
        schema_error(dir, "model.layers[0]: unknown key 'strides'; did you mean 'stride'?").c_str(), mlc::Error);
    REQUIRE_THROWS_WITH_AS(
        load_model(R"({"architecture": "cnn", "layers": [{"type": "linear",
                       "out_features": -4}]})"),
        schema_error(dir, "model.layers[0].out_features: must be an integer >= 1 and <= 1000000, got -4").c_str(),
        mlc::Error);
  }
  SUBCASE("keys of another architecture, missing keys, bad init") {
    REQUIRE_THROWS_WITH_AS(
        load_model(R"({"architecture": "gru", "hidden_size": 8, "layers": []})"),
        schema_error(dir, "model: unknown key 'layers'").c_str(), mlc::Error);
    REQUIRE_THROWS_WITH_AS(
        load_model(R"({"architecture": "transformer", "d_model": 8, "num_layers": 1,
                       "dim_feedforward": 8})"),
        schema_error(dir, "model: missing required key 'nhead'").c_str(), mlc::Error);
    REQUIRE_THROWS_WITH_AS(
        load_model(R"({"architecture": "lstm", "hidden_size": 0})"),
        schema_error(dir, "model.hidden_size: must be an integer >= 1 and <= 1000000, got 0").c_str(), mlc::Error);
    REQUIRE_THROWS_WITH_AS(
        load_model(R"({"architecture": "mlp", "hidden_layers": [4],
                       "init": {"linear": "orthogonal"}})"),
        schema_error(dir, R"(model.init.linear: must be one of "xavier_uniform", )"
                          R"("xavier_normal", "kaiming_uniform", "kaiming_normal", "normal", )"
                          R"("zeros", got "orthogonal")")
            .c_str(),
        mlc::Error);
  }
}

TEST_CASE("load_train_config: a missing file") {
  TempDir dir;
  fs::path missing = dir.path() / "missing.json";
  REQUIRE_THROWS_WITH_AS(mlc::load_train_config(missing, {}),
                         ("cannot read " + missing.string() + ": No such file or directory").c_str(),
                         mlc::Error);
  try {
    mlc::load_train_config(missing, {});
  } catch (const mlc::Error& error) {
    CHECK(error.kind() == mlc::ErrorKind::not_found);
  }
  REQUIRE_THROWS_WITH_AS(mlc::load_train_config(dir.path(), {}),
                         ("cannot read " + dir.path().string() + ": Is a directory").c_str(),
                         mlc::Error);
}

TEST_CASE("load_train_config: a config is read strictly") {
  TempDir dir;
  SUBCASE("a duplicate key") {
    std::string text = kCsvConfig;
    text.replace(text.find("\"epochs\": 5"), 11, "\"epochs\": 5, \"epochs\": 50");
    REQUIRE_THROWS_WITH_AS(mlc::load_train_config(dir.write("mlp.json", text), {}),
                           schema_error(dir, "training.epochs: duplicate key \"epochs\"").c_str(),
                           mlc::Error);
  }
  SUBCASE("nesting 70,000 deep") {
    REQUIRE_THROWS_WITH_AS(
        mlc::load_train_config(
            dir.write("mlp.json", std::string(70000, '[') + std::string(70000, ']')), {}),
        doctest::Contains("nested deeper than 64 levels of arrays and objects"), mlc::Error);
  }
  SUBCASE("/dev/zero stops at the size limit") {
    ::setenv("MLC_MAX_JSON_BYTES", "65536", 1);
    CHECK_THROWS_WITH_AS(mlc::load_train_config("/dev/zero", {}),
                         "/dev/zero: larger than 65536 bytes (the limit for JSON input; "
                         "MLC_MAX_JSON_BYTES raises it)",
                         mlc::Error);
    ::unsetenv("MLC_MAX_JSON_BYTES");
  }
}

TEST_CASE("load_train_config: --set values are read strictly") {
  TempDir dir;
  SUBCASE("a duplicate key in a JSON value") {
    REQUIRE_THROWS_WITH_AS(
        load_csv_config(dir, {R"(training.optimizer={"name": "adam", "name": "sgd"})"}),
        R"(--set 'training.optimizer={"name": "adam", "name": "sgd"}': name: duplicate key "name")",
        mlc::Error);
  }
  SUBCASE("a JSON value nested too deep") {
    CHECK_THROWS_WITH_AS(
        load_csv_config(dir, {"model.hidden_layers=" + std::string(70000, '[') +
                              std::string(70000, ']')}),
        doctest::Contains("nested deeper than 64 levels"), mlc::Error);
  }
  SUBCASE("a key path too deep") {
    std::string keys = "training";
    for (int level = 0; level < 70000; ++level) keys += ".a";
    CHECK_THROWS_WITH_AS(load_csv_config(dir, {keys + "=1"}),
                         doctest::Contains("a key path deeper than 64 levels"), mlc::Error);
  }
  SUBCASE("bytes that are not UTF-8") {
    REQUIRE_THROWS_WITH_AS(load_csv_config(dir, {"data.target=cl\xFF"}),
                           "--set: not valid UTF-8 (byte 0xFF at offset 14)", mlc::Error);
  }
}

TEST_CASE("load_train_config: integers are range-checked, never wrapped") {
  TempDir dir;
  SUBCASE("epochs beyond 32 bits (trained 2 epochs, recorded 4294967298)") {
    REQUIRE_THROWS_WITH_AS(
        load_csv_config(dir, {"training.epochs=4294967298"}),
        schema_error(dir, "training.epochs: must be an integer >= 1 and <= 1000000, got "
                          "4294967298")
            .c_str(),
        mlc::Error);
  }
  SUBCASE("a float for an integer key (1e12 reported -2147483648)") {
    REQUIRE_THROWS_WITH_AS(
        load_csv_config(dir, {"training.epochs=1e12"}),
        schema_error(dir, "training.epochs: must be an integer >= 1 and <= 1000000, got "
                          "1000000000000.0")
            .c_str(),
        mlc::Error);
    CHECK(load_csv_config(dir, {"training.epochs=3.0"})["training"]["epochs"] == 3);
  }
  SUBCASE("seeds: 0 to 2^63 - 1, exactly") {
    CHECK(load_csv_config(dir, {"training.seed=9223372036854775807"})["training"]["seed"] ==
          INT64_MAX);
    REQUIRE_THROWS_WITH_AS(
        load_csv_config(dir, {"training.seed=9223372036854775808"}),
        schema_error(dir, "training.seed: must be an integer >= 0 and <= 9223372036854775807, "
                          "got 9223372036854775808")
            .c_str(),
        mlc::Error);
    REQUIRE_THROWS_WITH_AS(
        load_csv_config(dir, {"training.seed=99999999999999999999"}),
        "--set 'training.seed=99999999999999999999': (root): integer 99999999999999999999 is out "
        "of range (at most 64 bits)",
        mlc::Error);
  }
}

// Every integer the compute side reads must fit its type there (int or int64_t): the schema is
// the only check between the user and those conversions.
TEST_CASE("train-config schema: every integer key has a range") {
  const json& schema = mlc::embedded_schema("train-config.schema.json");
  size_t integers = 0;
  std::vector<std::pair<const json*, std::string>> pending = {{&schema, ""}};
  while (!pending.empty()) {
    auto [node, where] = pending.back();
    pending.pop_back();
    if (node->is_object() && node->value("type", json()) == "integer") {
      ++integers;
      CAPTURE(where);
      REQUIRE(node->contains("minimum"));
      REQUIRE(node->contains("maximum"));
      const auto ends_with = [&](const std::string& tail) {
        return where.size() >= tail.size() && where.substr(where.size() - tail.size()) == tail;
      };
      const bool is_seed = ends_with("/seed") || ends_with("/split_seed");
      CHECK((*node)["maximum"].get<uint64_t>() <= (is_seed ? uint64_t{INT64_MAX} : uint64_t{INT32_MAX}));
    }
    if (node->is_structured()) {
      for (const auto& [key, child] : node->items()) pending.emplace_back(&child, where + "/" + key);
    }
  }
  CHECK(integers > 20);
}
