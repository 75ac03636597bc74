#include "torch_doctest.hpp"  // first: see why there

#include <cmath>
#include <limits>
#include <sstream>

#include <torch/csrc/jit/api/module.h>

#include "inference/inference_model.hpp"
#include "mlc/error.hpp"
#include "serving/oip.hpp"

using mlc::compute::InferenceModel;
namespace serving = mlc::compute::serving;

namespace {

// A model whose logits are its input's first two values, times 2, plus 1: row by row, so that what
// the parser wrote can be read back from forward().
InferenceModel model_taking(const std::vector<int64_t>& sample_shape,
                            nlohmann::json extra = nlohmann::json::object()) {
  torch::jit::Module module("FirstTwo");
  module.define("def forward(self, x):\n    return x.reshape([x.size(0), -1])[:, 0:2] * 2.0 + 1.0\n");
  std::ostringstream bytes;
  module.save(bytes);
  std::vector<int64_t> shape = {-1};
  shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
  nlohmann::json manifest = {
      {"name", "m"},
      {"versions", {"1", "2"}},
      {"inputs", {{{"name", "input"}, {"datatype", "FP32"}, {"shape", shape}}}},
      {"outputs", {{{"name", "logits"}, {"datatype", "FP32"}, {"shape", {-1, 2}}}}},
      {"labels", {"cat", "dog"}}};
  manifest.update(extra);
  return InferenceModel(bytes.str(), manifest, "test model");
}

InferenceModel image_model() { return model_taking({2, 3}); }

// Features x (numeric), color (categorical: blue = 0, red = 1) and z (numeric).
InferenceModel table_model() {
  return model_taking({3}, {{"feature_names", {"x", "color", "z"}},
                            {"preprocessing",
                             {{"steps",
                               {{{"op", "one_hot"},
                                 {"columns", {{{"name", "color"}, {"categories", {"blue", "red"}}}}}}}}}}});
}

InferenceModel regression_model() {
  return model_taking({3}, {{"task", "regression"},
                            {"outputs", {{{"name", "prediction"}, {"datatype", "FP32"}, {"shape", {-1, 1}}}}},
                            {"labels", nlohmann::json::array()}});
}

// An infer request body with one tensor named "input".
std::string body_with(const std::string& datatype, const nlohmann::json& shape, const nlohmann::json& data,
                      const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json body = {{"inputs", {{{"name", "input"}, {"datatype", datatype}, {"shape", shape}, {"data", data}}}}};
  body.update(extra);
  return body.dump();
}

std::vector<float> values_of(const torch::Tensor& tensor) {
  const torch::Tensor flat = tensor.contiguous().reshape({-1});
  return {flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel()};
}

// The message of the Error that parsing `body` throws, after checking it is a bad request (an
// Error(invalid_input), which the server answers with 400), not some other exception.
std::string refusal(const std::string& body, const InferenceModel& model) {
  try {
    serving::parse_infer_request(body, model);
  } catch (const mlc::Error& error) {
    CHECK(error.kind() == mlc::ErrorKind::invalid_input);
    return error.what();
  } catch (const std::exception& error) {
    FAIL_CHECK("not an mlc::Error: ", error.what());
    return "";
  }
  FAIL_CHECK("accepted: ", body);
  return "(accepted)";
}

}  // namespace

TEST_CASE("parse_infer_request reads flat and nested data alike") {
  const InferenceModel model = image_model();
  const serving::InferRequest flat =
      serving::parse_infer_request(body_with("FP32", {2, 2, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12.5}), model);
  const serving::InferRequest nested = serving::parse_infer_request(
      body_with("FP32", {2, 2, 3}, {{{1, 2, 3}, {4, 5, 6}}, {{7, 8, 9}, {10, 11, 12.5}}}), model);
  CHECK(flat.batch.sizes().vec() == std::vector<int64_t>{2, 2, 3});
  CHECK(flat.batch.dtype() == torch::kFloat32);
  CHECK(values_of(flat.batch) == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12.5});
  CHECK(torch::equal(flat.batch, nested.batch));
  CHECK_FALSE(flat.has_id);
  CHECK(flat.outputs.empty());

  SUBCASE("other numeric datatypes are read as numbers") {
    for (const char* datatype : {"FP64", "FP16", "INT8", "INT64", "UINT8", "UINT64"}) {
      CAPTURE(datatype);
      const auto request = serving::parse_infer_request(body_with(datatype, {1, 2, 3}, {0, 1, 2, 3, 4, 255}), model);
      CHECK(values_of(request.batch) == std::vector<float>{0, 1, 2, 3, 4, 255});
    }
  }
  SUBCASE("the id and the outputs asked for") {
    const auto request = serving::parse_infer_request(
        body_with("FP32", {1, 2, 3}, {1, 2, 3, 4, 5, 6},
                  {{"id", "req-7 \"quoted\""}, {"outputs", {{{"name", "label"}}, {{"name", "logits"}}}}}),
        model);
    CHECK(request.has_id);
    CHECK(request.id == "req-7 \"quoted\"");
    CHECK(request.outputs == std::vector<std::string>{"label", "logits"});
  }
  SUBCASE("whitespace after the body") {
    CHECK(serving::parse_infer_request(body_with("FP32", {1, 2, 3}, {1, 2, 3, 4, 5, 6}) + "\r\n \n", model)
              .batch.numel() == 6);
  }
  SUBCASE("the smallest honest body of many rows is not taken for a lie") {
    std::string data = "0";
    for (int i = 1; i < 600; ++i) data += ",0";
    const std::string body =
        R"({"inputs":[{"name":"input","datatype":"FP32","shape":[100,2,3],"data":[)" + data + "]}]}";
    CHECK(serving::parse_infer_request(body, model).batch.size(0) == 100);
  }
}

TEST_CASE("parse_infer_request refuses a bad request, naming what is wrong") {
  const InferenceModel image = image_model();
  const InferenceModel table = table_model();
  const std::vector<int> six = {1, 2, 3, 4, 5, 6};

  SUBCASE("not JSON") {
    CHECK(refusal("not json", image) == "the body is not valid JSON: Invalid value. (at byte 1)");
    CHECK(refusal(R"({"inputs": [)", image) ==
          "the body is not valid JSON: Invalid value. (at byte 12)");
    CHECK(refusal("{\"id\": \"\xff\"}", image) ==
          "the body is not valid JSON: Invalid encoding in string. (at byte 8)");
  }
  SUBCASE("more after the JSON document") {
    // A client's stray brace, or two documents: still not one JSON value.
    const std::string body = body_with("FP32", {1, 2, 3}, six);
    CHECK(refusal(body + "}", image).rfind("the body is not valid JSON: ", 0) == 0);
    CHECK(refusal(body + body, image).rfind("the body is not valid JSON: ", 0) == 0);
  }
  SUBCASE("not an object") {
    CHECK(refusal("[1, 2]", image) == "the body must be a JSON object with 'inputs'");
    CHECK(refusal("42", image) == "the body must be a JSON object with 'inputs'");
  }
  SUBCASE("no inputs, or not one") {
    CHECK(refusal(R"({"id": "a"})", image) == "the request: 'inputs' is missing");
    CHECK(refusal(R"({"inputs": []})", image) ==
          "'inputs' must be an array of one tensor: the model takes one input, 'input'");
    nlohmann::json two = nlohmann::json::parse(body_with("FP32", {1, 2, 3}, six));
    two["inputs"].push_back(two["inputs"][0]);
    CHECK(refusal(two.dump(), image) ==
          "'inputs' must be an array of one tensor: the model takes one input, 'input'");
    CHECK(refusal(R"({"inputs": {"name": "input"}})", image) ==
          "'inputs' must be an array of one tensor: the model takes one input, 'input'");
    CHECK(refusal(R"({"inputs": [5]})", image) == "inputs[0] must be an object with name, shape, datatype and data");
  }
  SUBCASE("an id that is not a string") {
    CHECK(refusal(body_with("FP32", {1, 2, 3}, six, {{"id", 5}}), image) == "'id' must be a string");
  }
  SUBCASE("an unknown input name") {
    nlohmann::json body = nlohmann::json::parse(body_with("FP32", {1, 2, 3}, six));
    body["inputs"][0]["name"] = "pixels \"0\"";
    CHECK(refusal(body.dump(), image) == R"(inputs[0]: unknown input "pixels \"0\"": the model takes 'input')");
    body["inputs"][0].erase("name");
    CHECK(refusal(body.dump(), image) == "inputs[0]: 'name' is missing");
    body["inputs"][0]["name"] = 3;
    CHECK(refusal(body.dump(), image) == "inputs[0]: 'name' must be a string");
  }
  SUBCASE("a bad datatype") {
    CHECK(refusal(body_with("FP8", {1, 2, 3}, six), image) == "input 'input': datatype must be FP32");
    CHECK(refusal(body_with("fp32", {1, 3}, {1, 2, 3}), table) == "input 'input': datatype must be FP32 or BYTES");
    nlohmann::json body = nlohmann::json::parse(body_with("FP32", {1, 2, 3}, six));
    body["inputs"][0]["datatype"] = 32;
    CHECK(refusal(body.dump(), image) == "input 'input': datatype must be FP32");
    body["inputs"][0].erase("datatype");
    CHECK(refusal(body.dump(), image) == "input 'input': 'datatype' is missing");
  }
  SUBCASE("BYTES on an image model") {
    CHECK(refusal(body_with("BYTES", {1, 2, 3}, six), image) ==
          "input 'input': datatype BYTES is for table models; this model takes FP32");
  }
  SUBCASE("a shape that does not fit the model's") {
    CHECK(refusal(body_with("FP32", {1, 3, 2}, six), image) ==
          "input 'input': shape [1,3,2] does not fit the model's [-1,2,3] (-1: any batch size >= 1)");
    CHECK(refusal(body_with("FP32", {6}, six), image) ==
          "input 'input': shape [6] does not fit the model's [-1,2,3] (-1: any batch size >= 1)");
    CHECK(refusal(body_with("FP32", {0, 2, 3}, nlohmann::json::array()), image) ==
          "input 'input': shape [0,2,3] does not fit the model's [-1,2,3] (-1: any batch size >= 1)");
    CHECK(refusal(body_with("FP32", {-1, 2, 3}, six), image) == "input 'input': 'shape' must hold integers >= 0");
    CHECK(refusal(body_with("FP32", {1.5, 2, 3}, six), image) == "input 'input': 'shape' must hold integers >= 0");
    CHECK(refusal(body_with("FP32", nlohmann::json::array(), six), image) ==
          "input 'input': 'shape' must be an array of integers");
    CHECK(refusal(body_with("FP32", "1,2,3", six), image) == "input 'input': 'shape' must be an array of integers");
  }
  SUBCASE("data whose count does not match the shape") {
    CHECK(refusal(body_with("FP32", {1, 2, 3}, {1, 2, 3, 4, 5}), image) ==
          "input 'input': data has 5 elements, the shape [1,2,3] needs 6");
    CHECK(refusal(body_with("FP32", {2, 2, 3}, six), image) ==
          "input 'input': data has 6 elements, the shape [2,2,3] needs 12");
    CHECK(refusal(body_with("FP32", {1, 2, 3}, nlohmann::json::array()), image) ==
          "input 'input': data has 0 elements, the shape [1,2,3] needs 6");
    CHECK(refusal(body_with("FP32", {1, 2, 3}, {{{1, 2, 3}, {4, 5}}}), image) ==
          "input 'input': dimension 2 of data has 2 elements, the shape [1,2,3] says 3");
    CHECK(refusal(body_with("FP32", {2, 2, 3}, {{{1, 2, 3}, {4, 5, 6}}}), image) ==
          "input 'input': dimension 0 of data has 1 elements, the shape [2,2,3] says 2");
    CHECK(refusal(body_with("FP32", {1, 2, 3}, {{{1, 2, 3}, 4}}), image) ==
          "input 'input': data at dimension 2 must be an array of 3 (the shape is [1,2,3])");
    CHECK(refusal(body_with("FP32", {1, 2, 3}, 6), image) == "input 'input': 'data' must be an array");
    nlohmann::json body = nlohmann::json::parse(body_with("FP32", {1, 2, 3}, six));
    body["inputs"][0].erase("data");
    CHECK(refusal(body.dump(), image) == "input 'input': 'data' is missing");
  }
  SUBCASE("data nested deeper than the shape") {
    CHECK(refusal(body_with("FP32", {1, 2, 3}, {{{{1}, {2}, {3}}, {{4}, {5}, {6}}}}), image) ==
          "input 'input': data is nested deeper than the shape [1,2,3]");
    CHECK(refusal(body_with("FP32", {2, 3}, {{1, 2, {3}}, {4, 5, 6}}), table) ==
          "input 'input': data is nested deeper than the shape [2,3]");
  }
  SUBCASE("an element that is not a number") {
    CHECK(refusal(body_with("FP32", {1, 2, 3}, {1, "2", 3, 4, 5, 6}), image) ==
          "input 'input', element 1: expected a number");
    CHECK(refusal(body_with("FP32", {1, 2, 3}, {1, 2, 3, 4, 5, nullptr}), image) ==
          "input 'input', element 5: expected a number");
    CHECK(refusal(body_with("FP32", {1, 2, 3}, {{{1, 2, 3}, {4, true, 6}}}), image) ==
          "input 'input', element 4: expected a number");
    CHECK(refusal(body_with("FP32", {1, 2, 3}, {1, 2, 3, {1}, 5, 6}), image) ==
          "input 'input', element 3: expected a number");
    CHECK(refusal(R"({"inputs":[{"name":"input","datatype":"FP32","shape":[1,2,3],"data":[1,2,3,4,5,NaN]}]})",
                  image) == "the body is not valid JSON: Invalid value. (at byte 79)");
    CHECK(refusal(body_with("FP32", {1, 3}, {1, "red", 3}), table) ==
          "input 'input', element 1: expected a number or null");
    CHECK(refusal(body_with("BYTES", {1, 3}, {1, "red", true}), table) ==
          "input 'input', element 2: expected a string, a number or null");
    CHECK(refusal(body_with("BYTES", {2, 3}, {"1", "red", "3", "abc", "blue", "3"}), table) ==
          "input 'input', element 3: column 'x': 'abc' is not a number");
    CHECK(refusal(body_with("BYTES", {1, 3}, {"1", "red", "1e39"}), table) ==
          "input 'input', element 2: column 'z': '1e39' is not a finite number that fits a 32-bit float");
  }
  SUBCASE("a shape asking for more elements than the body holds: refused before allocating") {
    const int64_t huge = int64_t{1} << 62;
    CHECK(refusal(body_with("FP32", {huge, 2, 3}, six), image) ==
          "input 'input': shape [4611686018427387904,2,3] asks for more elements than the body holds");
    CHECK(refusal(body_with("BYTES", {huge, 3}, {"1", "red", "3"}), table) ==
          "input 'input': shape [4611686018427387904,3] asks for more elements than the body holds");
    // 12 GB of floats: an allocation that would succeed or fail slowly, far below any overflow.
    CHECK(refusal(body_with("FP32", {int64_t{1} << 29, 2, 3}, six), image) ==
          "input 'input': shape [536870912,2,3] asks for more elements than the body holds");
  }
  SUBCASE("an unknown output name") {
    CHECK(refusal(body_with("FP32", {1, 2, 3}, six, {{"outputs", {{{"name", "label"}}, {{"name", "scores"}}}}}),
                  image) == R"(outputs[1]: unknown output "scores": the model offers logits, probabilities, label, )"
                            "class_name");
    CHECK(refusal(body_with("FP32", {1, 3}, {1, 2, 3}, {{"outputs", {{{"name", "label"}}}}}), regression_model()) ==
          R"(outputs[0]: unknown output "label": the model offers prediction)");
    CHECK(refusal(body_with("FP32", {1, 2, 3}, six, {{"outputs", {{{"id", "label"}}}}}), image) ==
          "outputs[0]: 'name' is missing");
    CHECK(refusal(body_with("FP32", {1, 2, 3}, six, {{"outputs", {{{"name", 1}}}}}), image) ==
          "outputs[0]: 'name' must be a string");
    CHECK(refusal(body_with("FP32", {1, 2, 3}, six, {{"outputs", "label"}}), image) ==
          R"('outputs' must be an array of {"name": ...})");
  }
}

TEST_CASE("parse_infer_request encodes a table model's cells as TableEncoding does") {
  const InferenceModel model = table_model();

  SUBCASE("BYTES: category strings, numbers, null and missing strings") {
    const auto request = serving::parse_infer_request(
        body_with("BYTES", {4, 3},
                  {{"1.5", "red", nullptr},
                   {"NA", "blue", ""},
                   {2, "green", "NaN"},
                   {" 3 ", nullptr, "+4"}}),
        model);
    const std::vector<float> values = values_of(request.batch);
    REQUIRE(values.size() == 12);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const std::vector<float> expected = {1.5f, 1, nan, nan, 0, nan, 2, nan, nan, 3, nan, 4};
    for (size_t i = 0; i < values.size(); ++i) {
      CAPTURE(i);
      if (std::isnan(expected[i])) {
        CHECK(std::isnan(values[i]));
      } else {
        CHECK(values[i] == expected[i]);
      }
    }
    // Cell by cell, the same as TableEncoding::encode.
    CHECK(values[0] == model.table().encode(0, "1.5"));
    CHECK(values[1] == model.table().encode(1, "red"));
    CHECK(values[9] == model.table().encode(0, " 3 "));
  }
  SUBCASE("BYTES numbers are read as the same numbers FP32 gives") {
    const auto bytes = serving::parse_infer_request(body_with("BYTES", {1, 3}, {0.1, "blue", 1e-7}), model);
    const auto fp32 = serving::parse_infer_request(body_with("FP32", {1, 3}, {0.1, 0, 1e-7}), model);
    CHECK(torch::equal(bytes.batch, fp32.batch));
  }
  SUBCASE("FP32: numbers as they are, null as missing") {
    const auto request = serving::parse_infer_request(body_with("FP32", {1, 3}, {2.5, 1, nullptr}), model);
    const std::vector<float> values = values_of(request.batch);
    CHECK(values[0] == 2.5f);
    CHECK(values[1] == 1.0f);
    CHECK(std::isnan(values[2]));
  }
  SUBCASE("the model's own missing values") {
    torch::jit::Module module("Same");
    module.define("def forward(self, x):\n    return x[:, 0:2]\n");
    std::ostringstream bytes;
    module.save(bytes);
    const InferenceModel custom(bytes.str(), model.manifest(), "custom", {"?"});
    const auto request = serving::parse_infer_request(body_with("BYTES", {1, 3}, {"?", "?", "1"}), custom);
    CHECK(std::isnan(values_of(request.batch)[0]));
    CHECK(std::isnan(values_of(request.batch)[1]));
    CHECK(refusal(body_with("BYTES", {1, 3}, {"NA", "red", "1"}), custom) ==
          "input 'input', element 0: column 'x': 'NA' is not a number");
  }
}

TEST_CASE("infer_response writes the outputs asked for as OIP JSON") {
  const InferenceModel model = image_model();
  const serving::InferRequest request = serving::parse_infer_request(
      body_with("FP32", {2, 2, 3}, {0, 3, 9, 9, 9, 9, 1, -1, 9, 9, 9, 9}, {{"id", "r\"1"}}), model);
  const torch::Tensor outputs = model.forward(request.batch);  // {1, 7}, {3, -1}

  const nlohmann::json response =
      nlohmann::json::parse(serving::infer_response(model, request, outputs.data_ptr<float>(), 2));
  CHECK(response["model_name"] == "m");
  CHECK(response["model_version"] == "2");
  CHECK(response["id"] == "r\"1");
  REQUIRE(response["outputs"].size() == 4);
  const nlohmann::json& logits = response["outputs"][0];
  CHECK(logits["name"] == "logits");
  CHECK(logits["datatype"] == "FP32");
  CHECK(logits["shape"] == nlohmann::json({2, 2}));
  CHECK(logits["data"] == nlohmann::json({1, 7, 3, -1}));
  const nlohmann::json& probabilities = response["outputs"][1];
  CHECK(probabilities["name"] == "probabilities");
  CHECK(probabilities["datatype"] == "FP32");
  CHECK(probabilities["shape"] == nlohmann::json({2, 2}));
  REQUIRE(probabilities["data"].size() == 4);
  CHECK(probabilities["data"][0].get<double>() == doctest::Approx(1 / (1 + std::exp(6.0))).epsilon(1e-5));
  CHECK(probabilities["data"][1].get<double>() == doctest::Approx(1 / (1 + std::exp(-6.0))).epsilon(1e-5));
  CHECK(probabilities["data"][2].get<double>() == doctest::Approx(1 / (1 + std::exp(-4.0))).epsilon(1e-5));
  CHECK(response["outputs"][2] ==
        nlohmann::json::parse(R"({"name":"label","datatype":"INT64","shape":[2],"data":[1,0]})"));
  CHECK(response["outputs"][3] ==
        nlohmann::json::parse(R"({"name":"class_name","datatype":"BYTES","shape":[2],"data":["dog","cat"]})"));

  SUBCASE("no id: none echoed") {
    const auto plain = serving::parse_infer_request(body_with("FP32", {1, 2, 3}, {0, 3, 9, 9, 9, 9}), model);
    const auto json = nlohmann::json::parse(serving::infer_response(model, plain, outputs.data_ptr<float>(), 1));
    CHECK_FALSE(json.contains("id"));
    CHECK(json["outputs"].size() == 4);
  }
  SUBCASE("only the outputs asked for, in the model's order") {
    const auto some = serving::parse_infer_request(
        body_with("FP32", {2, 2, 3}, std::vector<int>(12, 0),
                  {{"outputs", {{{"name", "class_name"}}, {{"name", "logits"}}}}}),
        model);
    const auto json = nlohmann::json::parse(serving::infer_response(model, some, outputs.data_ptr<float>(), 2));
    REQUIRE(json["outputs"].size() == 2);
    CHECK(json["outputs"][0]["name"] == "logits");
    CHECK(json["outputs"][1]["name"] == "class_name");
  }
  SUBCASE("NaN and infinities are written as null") {
    const float values[] = {std::numeric_limits<float>::quiet_NaN(), 1, std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()};
    const std::string text = serving::infer_response(model, request, values, 2);
    const auto json = nlohmann::json::parse(text);  // throws on a bare NaN
    CHECK(json["outputs"][0]["data"] == nlohmann::json::parse("[null, 1, null, null]"));
  }
  SUBCASE("tiny and huge values are valid JSON numbers") {
    const float values[] = {1e-30f, -3.4e38f, 0.1f, -0.0f};
    const auto json = nlohmann::json::parse(serving::infer_response(model, request, values, 2));
    CHECK(json["outputs"][0]["data"][0].get<float>() == 1e-30f);
    CHECK(json["outputs"][0]["data"][1].get<float>() == -3.4e38f);
    CHECK(json["outputs"][0]["data"][2].get<float>() == 0.1f);
  }
  SUBCASE("a regression model has its one output") {
    const InferenceModel regression = regression_model();
    const auto one = serving::parse_infer_request(body_with("FP32", {1, 3}, {1, 2, 3}), regression);
    const float value[] = {0.25f};
    const auto json = nlohmann::json::parse(serving::infer_response(regression, one, value, 1));
    CHECK(json["outputs"] ==
          nlohmann::json::parse(R"([{"name":"prediction","datatype":"FP32","shape":[1,1],"data":[0.25]}])"));
  }
}

TEST_CASE("model_metadata describes the input and every output with its shape") {
  CHECK(serving::model_metadata(image_model()) == nlohmann::json::parse(R"({
    "name": "m", "versions": ["2"], "platform": "pytorch_torchscript",
    "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 2, 3]}],
    "outputs": [{"name": "logits", "datatype": "FP32", "shape": [-1, 2]},
                {"name": "probabilities", "datatype": "FP32", "shape": [-1, 2]},
                {"name": "label", "datatype": "INT64", "shape": [-1]},
                {"name": "class_name", "datatype": "BYTES", "shape": [-1]}],
    "parameters": {"labels": ["cat", "dog"]}})"));
  const nlohmann::json table = serving::model_metadata(table_model());
  CHECK(table["inputs"] == nlohmann::json::parse(R"([{"name": "input", "datatype": "FP32", "shape": [-1, 3],
    "parameters": {"feature_names": ["x", "color", "z"], "datatypes": ["FP32", "BYTES"]}}])"));
  const nlohmann::json regression = serving::model_metadata(regression_model());
  CHECK(regression["outputs"] == nlohmann::json::parse(R"([{"name": "prediction", "datatype": "FP32",
    "shape": [-1, 1]}])"));
  CHECK_FALSE(regression.contains("parameters"));
  CHECK(serving::output_names(regression_model()) == std::vector<std::string>{"prediction"});
}
