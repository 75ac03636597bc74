#include <array>
#include <utility>

#include "mlc/compute.hpp"

namespace mlc {
namespace {

// The names the catalogue's CHECK constraint (variants.kind) and --variant accept.
constexpr std::array<std::pair<std::string_view, VariantKind>, 4> kVariantKinds{
    {{"fp16", VariantKind::fp16},
     {"int8", VariantKind::int8},
     {"prune", VariantKind::prune},
     {"onnx", VariantKind::onnx}}};

}  // namespace

std::string_view to_string(VariantKind kind) {
  for (const auto& [name, value] : kVariantKinds) {
    if (value == kind) return name;
  }
  return "int8";
}

std::optional<VariantKind> variant_kind_from_string(std::string_view text) {
  for (const auto& [name, value] : kVariantKinds) {
    if (name == text) return value;
  }
  return std::nullopt;
}

}  // namespace mlc
