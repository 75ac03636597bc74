#include "serving/oip.hpp"

#include <cmath>
#include <cstring>
#include <optional>
#include <iterator>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "mlc/error.hpp"

namespace mlc::compute::serving {
namespace {

using rapidjson::Value;

Error bad(const std::string& message) { return Error(ErrorKind::invalid_input, message); }

std::string quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const std::set<std::string>& numeric_datatypes() {
  static const std::set<std::string> types = {"FP32", "FP64", "FP16", "INT8",  "INT16",  "INT32",
                                              "INT64", "UINT8", "UINT16", "UINT32", "UINT64"};
  return types;
}

std::string shape_text(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ",")); }

// Writes one input's elements into the batch tensor, checking each as it goes.
class TensorFiller {
 public:
  TensorFiller(const InferenceModel& model, std::string input, bool bytes, float* out)
      : model_(model), input_(std::move(input)), bytes_(bytes), out_(out),
        features_(model.table().empty() ? 0 : static_cast<int64_t>(model.table().feature_names().size())) {}

  void element(const Value& value) {
    const int64_t index = written_++;
    if (value.IsNumber() && !bytes_) {
      const auto number = static_cast<float>(value.GetDouble());
      if (!std::isfinite(number)) {
        throw bad(fmt::format("input '{}', element {}: {} is outside the range of FP32", input_, index,
                              value.GetDouble()));
      }
      out_[index] = number;
    } else if (value.IsNull() && features_ > 0) {
      out_[index] = std::numeric_limits<float>::quiet_NaN();
    } else if (bytes_ && (value.IsString() || value.IsNumber())) {
      const auto column = static_cast<size_t>(index % features_);
      const std::string cell = value.IsString() ? std::string(value.GetString(), value.GetStringLength())
                                                : fmt::format("{}", value.GetDouble());
      try {
        out_[index] = model_.table().encode(column, cell);
      } catch (const Error& error) {
        throw bad(fmt::format("input '{}', element {}: {}", input_, index, error.what()));
      }
    } else {
      throw bad(fmt::format("input '{}', element {}: expected {}", input_, index,
                            bytes_ ? "a string, a number or null" : features_ > 0 ? "a number or null" : "a number"));
    }
  }
  int64_t written() const { return written_; }

 private:
  const InferenceModel& model_;
  std::string input_;
  bool bytes_;
  float* out_;
  int64_t features_;
  int64_t written_ = 0;
};

void read_nested(const Value& array, size_t dimension, const std::vector<int64_t>& shape, TensorFiller& filler,
                 const std::string& input) {
  if (!array.IsArray()) {
    throw bad(fmt::format("input '{}': data at dimension {} must be an array of {} (the shape is {})", input,
                          dimension, shape[dimension], shape_text(shape)));
  }
  if (static_cast<int64_t>(array.Size()) != shape[dimension]) {
    throw bad(fmt::format("input '{}': dimension {} of data has {} elements, the shape {} says {}", input,
                          dimension, array.Size(), shape_text(shape), shape[dimension]));
  }
  const bool innermost = dimension + 1 == shape.size();
  for (const Value& element : array.GetArray()) {
    if (innermost) {
      if (element.IsArray()) {
        throw bad(fmt::format("input '{}': data is nested deeper than the shape {}", input, shape_text(shape)));
      }
      filler.element(element);
    } else {
      read_nested(element, dimension + 1, shape, filler, input);
    }
  }
}

const Value& member(const Value& object, const char* key, const std::string& where) {
  const auto found = object.FindMember(key);
  if (found == object.MemberEnd()) throw bad(fmt::format("{}: '{}' is missing", where, key));
  return found->value;
}

std::vector<int64_t> read_shape(const Value& shape, const std::string& input) {
  if (!shape.IsArray() || shape.Empty()) throw bad(fmt::format("input '{}': 'shape' must be an array of integers", input));
  std::vector<int64_t> dims;
  for (const Value& dim : shape.GetArray()) {
    if (!dim.IsInt64() || dim.GetInt64() < 0) {
      throw bad(fmt::format("input '{}': 'shape' must hold integers >= 0", input));
    }
    dims.push_back(dim.GetInt64());
  }
  return dims;
}

void append_float(std::string& out, float value) {
  if (std::isfinite(value)) {
    fmt::format_to(std::back_inserter(out), "{}", value);
  } else {
    out += "null";  // JSON has no NaN or infinity
  }
}

// An input's "data" (flat or nested to `shape`) into request.batch.
void read_json_data(const Value& data, const std::vector<int64_t>& shape, size_t body_bytes,
                    const InferenceModel& model, const std::string& name, bool bytes, InferRequest& request) {
  if (!data.IsArray()) throw bad(fmt::format("input '{}': 'data' must be an array", name));
  // Every element takes at least two bytes of the body ("0,"), so a shape asking for more is a
  // lie, refused before anything is allocated from it.
  const int64_t most_rows = static_cast<int64_t>(body_bytes / 2) / model.sample_size() + 1;
  if (shape[0] > most_rows) {
    throw bad(fmt::format("input '{}': shape {} asks for more elements than the body holds", name, shape_text(shape)));
  }
  request.batch = torch::empty(shape, torch::kFloat32);
  const int64_t elements = request.batch.numel();
  TensorFiller filler(model, name, bytes, request.batch.data_ptr<float>());
  if (!data.Empty() && data[0].IsArray()) {
    read_nested(data, 0, shape, filler, name);
  } else {
    if (static_cast<int64_t>(data.Size()) != elements) {
      throw bad(fmt::format("input '{}': data has {} elements, the shape {} needs {}", name, data.Size(),
                            shape_text(shape), elements));
    }
    for (const Value& element : data.GetArray()) filler.element(element);
  }
}

}  // namespace

std::vector<std::string> output_names(const InferenceModel& model) {
  if (model.regression()) return {model.output_name()};
  return {model.output_name(), "probabilities", "label", "class_name"};
}

InferRequest parse_infer_request(std::string body, const InferenceModel& model,
                                 std::optional<size_t> json_length) {
  std::string binary;
  if (json_length) {
    if (*json_length > body.size()) {
      throw bad(fmt::format("Inference-Header-Content-Length {} is beyond the body's {} bytes", *json_length,
                            body.size()));
    }
    binary = body.substr(*json_length);
    body.resize(*json_length);
  }
  const size_t body_bytes = body.size();
  rapidjson::Document document;
  // Iterative: the recursive parser overflows the stack on a body of a million '['.
  document.ParseInsitu<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(body.data());
  if (document.HasParseError()) {
    throw bad(fmt::format("the body is not valid JSON: {} (at byte {})",
                          rapidjson::GetParseError_En(document.GetParseError()), document.GetErrorOffset()));
  }
  if (!document.IsObject()) throw bad("the body must be a JSON object with 'inputs'");
  InferRequest request;
  if (const auto id = document.FindMember("id"); id != document.MemberEnd()) {
    if (!id->value.IsString()) throw bad("'id' must be a string");
    request.id.assign(id->value.GetString(), id->value.GetStringLength());
    request.has_id = true;
  }
  const Value& inputs = member(document, "inputs", "the request");
  if (!inputs.IsArray() || inputs.Size() != 1) {
    throw bad(fmt::format("'inputs' must be an array of one tensor: the model takes one input, '{}'",
                          model.input_name()));
  }
  const Value& tensor = inputs[0];
  if (!tensor.IsObject()) throw bad("inputs[0] must be an object with name, shape, datatype and data");
  const Value& name_value = member(tensor, "name", "inputs[0]");
  if (!name_value.IsString()) throw bad("inputs[0]: 'name' must be a string");
  const std::string name(name_value.GetString(), name_value.GetStringLength());
  if (name != model.input_name()) {
    throw bad(fmt::format("inputs[0]: unknown input {}: the model takes '{}'", quoted(name), model.input_name()));
  }
  const Value& datatype_value = member(tensor, "datatype", "input '" + name + "'");
  const std::string datatype = datatype_value.IsString() ? datatype_value.GetString() : "";
  const bool bytes = datatype == "BYTES";
  if (bytes && model.table().empty()) {
    throw bad(fmt::format("input '{}': datatype BYTES is for table models; this model takes FP32", name));
  }
  if (!bytes && numeric_datatypes().count(datatype) == 0) {
    throw bad(fmt::format("input '{}': datatype must be FP32{}", name, model.table().empty() ? "" : " or BYTES"));
  }
  const std::vector<int64_t> shape = read_shape(member(tensor, "shape", "input '" + name + "'"), name);
  std::vector<int64_t> expected = model.sample_shape();
  expected.insert(expected.begin(), -1);
  const bool fits = shape.size() == expected.size() &&
                    std::equal(shape.begin() + 1, shape.end(), expected.begin() + 1) && shape[0] >= 1;
  if (!fits) {
    throw bad(fmt::format("input '{}': shape {} does not fit the model's {} (-1: any batch size >= 1)", name,
                          shape_text(shape), shape_text(expected)));
  }
  // The binary tensor data extension: the tensor's bytes follow the JSON, and its parameters say
  // how many (Triton's clients send this by default).
  std::optional<int64_t> binary_size;
  if (const auto parameters = tensor.FindMember("parameters"); parameters != tensor.MemberEnd()) {
    if (const auto size = parameters->value.FindMember("binary_data_size");
        parameters->value.IsObject() && size != parameters->value.MemberEnd()) {
      if (!size->value.IsInt64() || size->value.GetInt64() < 0) {
        throw bad(fmt::format("input '{}': parameters.binary_data_size must be an integer >= 0", name));
      }
      binary_size = size->value.GetInt64();
    }
  }
  if (binary_size) {
    if (datatype != "FP32") {
      throw bad(fmt::format("input '{}': binary data is read as FP32 only; send {} as JSON", name, datatype));
    }
    if (*binary_size != static_cast<int64_t>(binary.size())) {
      throw bad(fmt::format("input '{}': binary_data_size is {} but {} bytes follow the JSON", name, *binary_size,
                            binary.size()));
    }
    if (shape[0] > *binary_size / 4 / model.sample_size() + 1 || *binary_size != shape[0] * model.sample_size() * 4) {
      throw bad(fmt::format("input '{}': {} bytes of binary data do not hold shape {} of FP32", name, *binary_size,
                            shape_text(shape)));
    }
    request.batch = torch::empty(shape, torch::kFloat32);
    std::memcpy(request.batch.data_ptr<float>(), binary.data(), binary.size());  // little-endian, as x86 is
    const float* values = request.batch.data_ptr<float>();
    for (int64_t i = 0; i < request.batch.numel(); ++i) {
      if (std::isinf(values[i]) || (std::isnan(values[i]) && model.table().empty())) {
        throw bad(fmt::format("input '{}', element {}: not a finite number", name, i));
      }
    }
  } else {
    read_json_data(member(tensor, "data", "input '" + name + "'"), shape, body_bytes, model, name, bytes, request);
  }
  if (!binary_size && !binary.empty()) {
    throw bad(fmt::format("{} bytes follow the JSON but no input says binary_data_size", binary.size()));
  }

  if (const auto outputs = document.FindMember("outputs"); outputs != document.MemberEnd()) {
    if (!outputs->value.IsArray()) throw bad("'outputs' must be an array of {\"name\": ...}");
    const std::vector<std::string> offered = output_names(model);
    for (rapidjson::SizeType i = 0; i < outputs->value.Size(); ++i) {
      const Value& output = outputs->value[i];
      const std::string where = fmt::format("outputs[{}]", i);
      const Value& output_name = output.IsObject() ? member(output, "name", where) : output;
      if (!output_name.IsString()) throw bad(where + ": 'name' must be a string");
      const std::string wanted(output_name.GetString(), output_name.GetStringLength());
      if (std::find(offered.begin(), offered.end(), wanted) == offered.end()) {
        throw bad(fmt::format("{}: unknown output {}: the model offers {}", where, quoted(wanted),
                              fmt::join(offered, ", ")));
      }
      request.outputs.push_back(wanted);
    }
  }
  return request;
}

std::string infer_response(const InferenceModel& model, const InferRequest& request, const float* outputs,
                           int64_t rows) {
  const int64_t width = model.output_width();
  std::string out;
  out.reserve(static_cast<size_t>(64 + rows * width * 12));
  out += "{\"model_name\":" + quoted(model.name()) + ",\"model_version\":" + quoted(model.version());
  if (request.has_id) out += ",\"id\":" + quoted(request.id);
  out += ",\"outputs\":[";
  bool first = true;
  std::vector<Decision> decisions;
  if (!model.regression()) {
    for (int64_t row = 0; row < rows; ++row) decisions.push_back(model.decide(outputs + row * width));
  }
  for (const std::string& name : output_names(model)) {
    if (!request.outputs.empty() &&
        std::find(request.outputs.begin(), request.outputs.end(), name) == request.outputs.end()) {
      continue;
    }
    if (!first) out += ',';
    first = false;
    const bool per_row = name == "label" || name == "class_name";
    const char* datatype = name == "label" ? "INT64" : name == "class_name" ? "BYTES" : "FP32";
    out += fmt::format("{{\"name\":\"{}\",\"datatype\":\"{}\",\"shape\":", name, datatype);
    out += per_row ? fmt::format("[{}]", rows) : fmt::format("[{},{}]", rows, width);
    out += ",\"data\":[";
    for (int64_t row = 0; row < rows; ++row) {
      if (row > 0) out += ',';
      if (name == "label") {
        out += std::to_string(decisions[static_cast<size_t>(row)].label);
      } else if (name == "class_name") {
        out += quoted(model.labels()[static_cast<size_t>(decisions[static_cast<size_t>(row)].label)]);
      } else {
        const float* values = name == "probabilities" ? decisions[static_cast<size_t>(row)].probabilities.data()
                                                      : outputs + row * width;
        for (int64_t i = 0; i < width; ++i) {
          if (i > 0) out += ',';
          append_float(out, values[i]);
        }
      }
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

nlohmann::json model_metadata(const InferenceModel& model) {
  const int64_t width = model.output_width();
  auto outputs = nlohmann::json::array();
  for (const std::string& name : output_names(model)) {
    const bool per_row = name == "label" || name == "class_name";
    outputs.push_back({{"name", name},
                       {"datatype", name == "label" ? "INT64" : name == "class_name" ? "BYTES" : "FP32"},
                       {"shape", per_row ? std::vector<int64_t>{-1} : std::vector<int64_t>{-1, width}}});
  }
  std::vector<int64_t> input_shape = model.sample_shape();
  input_shape.insert(input_shape.begin(), -1);
  nlohmann::json input = {{"name", model.input_name()}, {"datatype", "FP32"}, {"shape", input_shape}};
  if (!model.table().empty()) {
    input["parameters"] = {{"feature_names", model.table().feature_names()},
                           {"datatypes", nlohmann::json::array({"FP32", "BYTES"})}};
  }
  nlohmann::json metadata = {{"name", model.name()},
                             {"versions", nlohmann::json::array({model.version()})},
                             {"platform", "pytorch_torchscript"},
                             {"inputs", nlohmann::json::array({input})},
                             {"outputs", outputs}};
  if (!model.regression()) metadata["parameters"] = {{"labels", model.labels()}};
  return metadata;
}

}  // namespace mlc::compute::serving
