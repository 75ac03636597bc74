// Optimised variants of a trained model's export: ComputeBackend::export_variant.
#pragma once

#include "mlc/compute.hpp"

namespace mlc::compute {

// Refuses data whose test split is empty or does not fit the model (Error(invalid_input), as
// evaluate() words it) before anything else; scripts the fp32 export and the variant
// (variant_script.hpp), saves the variant in memory, loads it back with torch::jit::load and
// checks it on probe inputs against the fp32 export (fp16: within 1e-2 of the logits' scale;
// int8: finite and of the same shape; Error(internal) otherwise); measures both on the test split
// (the scalar metrics evaluate() records, then latency with one intra-op thread); and only then
// writes the variant to request.out (write_home_file: Error(catalog) if it cannot be written).
// Error(usage) for a variant the model cannot have.
VariantResult export_variant(const VariantRequest& request);

}  // namespace mlc::compute
