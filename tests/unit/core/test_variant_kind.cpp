#include <doctest/doctest.h>

#include "mlc/compute.hpp"

TEST_CASE("variant kinds: to_string and variant_kind_from_string are inverses") {
  for (const auto kind : {mlc::VariantKind::fp16, mlc::VariantKind::int8}) {
    CHECK(mlc::variant_kind_from_string(mlc::to_string(kind)) == kind);
  }
  CHECK(mlc::to_string(mlc::VariantKind::fp16) == "fp16");
  CHECK(mlc::to_string(mlc::VariantKind::int8) == "int8");
  CHECK_FALSE(mlc::variant_kind_from_string("INT8").has_value());
  CHECK_FALSE(mlc::variant_kind_from_string("int4").has_value());
  CHECK_FALSE(mlc::variant_kind_from_string("").has_value());
}
