#include <doctest/doctest.h>

#include "mlc/error.hpp"
#include "mlc/listing.hpp"

using mlc::ListedVersion;
using mlc::ListOrder;

namespace {

ListedVersion listed(const std::string& model, int64_t version, const std::string& created,
                     mlc::Metrics metrics, const std::string& origin = "eval") {
  ListedVersion item;
  item.version.id = version * 10 + static_cast<int64_t>(model.size());
  item.version.model = model;
  item.version.version = version;
  item.version.created_at = created;
  item.metrics = std::move(metrics);
  if (!item.metrics.empty()) item.evaluation_origin = origin;
  return item;
}

std::vector<std::string> names(const std::vector<ListedVersion>& versions) {
  std::vector<std::string> out;
  for (const auto& item : versions) out.push_back(item.version.model + ":" + std::to_string(item.version.version));
  return out;
}

std::vector<ListedVersion> sample() {
  return {listed("b", 1, "2026-01-03T00:00:00.000Z", {{"accuracy", 0.7}, {"loss", 0.9}}),
          listed("a", 1, "2026-01-01T00:00:00.000Z", {{"accuracy", 0.9}, {"loss", 0.2}}),
          listed("a", 2, "2026-01-04T00:00:00.000Z", {}),
          listed("r", 1, "2026-01-02T00:00:00.000Z", {{"rmse", 3.5}}, "manifest")};
}

}  // namespace

TEST_CASE("headline: accuracy, else rmse, marked when self-reported") {
  const auto versions = sample();
  CHECK(mlc::headline(versions[0])->metric == "accuracy");
  CHECK(mlc::headline(versions[0])->value == doctest::Approx(0.7));
  CHECK_FALSE(mlc::headline(versions[0])->self_reported);
  CHECK_FALSE(mlc::headline(versions[2]).has_value());
  CHECK(mlc::headline(versions[3])->metric == "rmse");
  CHECK(mlc::headline(versions[3])->self_reported);
}

TEST_CASE("arrange") {
  SUBCASE("name: model, then version") {
    CHECK(names(mlc::arrange(sample(), ListOrder{})) == std::vector<std::string>{"a:1", "a:2", "b:1", "r:1"});
  }
  SUBCASE("created: oldest first") {
    CHECK(names(mlc::arrange(sample(), ListOrder{"created", std::nullopt})) ==
          std::vector<std::string>{"a:1", "r:1", "b:1", "a:2"});
  }
  SUBCASE("a metric: best first, those without it last") {
    CHECK(names(mlc::arrange(sample(), ListOrder{"accuracy", std::nullopt})) ==
          std::vector<std::string>{"a:1", "b:1", "a:2", "r:1"});
    CHECK(names(mlc::arrange(sample(), ListOrder{"loss", std::nullopt})) ==
          std::vector<std::string>{"a:1", "b:1", "a:2", "r:1"});
  }
  SUBCASE("limit: the newest N by creation, then sorted; by a metric, the best N") {
    CHECK(names(mlc::arrange(sample(), ListOrder{"name", 2})) == std::vector<std::string>{"a:2", "b:1"});
    CHECK(names(mlc::arrange(sample(), ListOrder{"accuracy", 3})) == std::vector<std::string>{"a:1", "b:1", "a:2"});
    CHECK(names(mlc::arrange(sample(), ListOrder{"accuracy", 1})) == std::vector<std::string>{"a:1"});
    CHECK(mlc::arrange(sample(), ListOrder{"name", 10}).size() == 4);
  }
}

TEST_CASE("check_list_order") {
  CHECK_NOTHROW(mlc::check_list_order(ListOrder{"f1[T-shirt/top]", 1}) );
  CHECK_THROWS_WITH_AS(mlc::check_list_order(ListOrder{"name", 0}), "--limit must be at least 1, not 0", mlc::Error);
  CHECK_THROWS_WITH_AS(mlc::check_list_order(ListOrder{"acc\nuracy", std::nullopt}),
                       "--sort takes name, created or a metric name (e.g. accuracy, rmse), not 'acc\\nuracy'",
                       mlc::Error);
  CHECK_THROWS_AS(mlc::check_list_order(ListOrder{"", std::nullopt}), mlc::Error);
}
