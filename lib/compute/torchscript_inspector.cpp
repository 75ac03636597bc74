#include "torchscript_inspector.hpp"

#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>

#include <fstream>
#include <set>
#include <sstream>

#include "mlc/error.hpp"
#include "torch_error.hpp"

namespace mlc::compute {
namespace fs = std::filesystem;

TorchScriptInfo inspect_torchscript(const fs::path& file) {
  if (!std::ifstream(file)) throw Error(ErrorKind::not_found, "cannot read " + file.string());
  torch::jit::Module module;
  try {
    module = torch::jit::load(file.string(), c10::kCPU);
  } catch (const std::exception& error) {
    throw Error(ErrorKind::invalid_input,
                file.string() + ": libtorch cannot load it as TorchScript: " + first_line_of(error));
  }
  const auto forward = module.find_method("forward");
  if (!forward) {
    throw Error(ErrorKind::invalid_input, file.string() + ": the TorchScript module has no forward() method");
  }
  TorchScriptInfo info;
  const c10::FunctionSchema& schema = forward->function().getSchema();
  std::ostringstream signature;
  signature << schema;
  info.forward_schema = signature.str();
  const auto& arguments = schema.arguments();
  for (size_t i = 1; i < arguments.size(); ++i) {  // 0 is self
    info.input_names.push_back(arguments[i].name());
    info.input_types.push_back(arguments[i].type()->annotation_str());
  }
  if (schema.returns().size() == 1) {
    info.output_type = schema.returns()[0].type()->annotation_str();
  } else {
    std::string joined;
    for (const auto& value : schema.returns()) {
      joined += (joined.empty() ? "" : ", ") + value.type()->annotation_str();
    }
    info.output_type = "(" + joined + ")";
  }
  std::set<std::string> dtypes;
  for (const auto& parameter : module.parameters()) {
    ++info.parameter_tensors;
    info.parameters += parameter.numel();
    dtypes.insert(std::string(c10::toString(parameter.scalar_type())));
  }
  info.dtypes.assign(dtypes.begin(), dtypes.end());
  return info;
}

}  // namespace mlc::compute
