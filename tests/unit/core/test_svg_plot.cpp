#include <cmath>
#include <limits>
#include <string>

#include <doctest/doctest.h>

#include "mlc/error.hpp"
#include "mlc/svg_plot.hpp"

namespace svg = mlc::svg;

namespace {

size_t occurrences(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

svg::LineChart chart_of(std::vector<std::pair<double, double>> points) {
  svg::LineChart chart;
  chart.title = "Loss";
  chart.x_label = "epoch";
  chart.y_label = "loss";
  chart.series = {svg::Series{"train loss", std::move(points)}};
  chart.x_min_step = 1;
  return chart;
}

}  // namespace

TEST_CASE("axis_for: nice ticks that cover the values") {
  const svg::Axis axis = svg::axis_for({0.13, 0.92, 0.5});
  CHECK(axis.step == doctest::Approx(0.2));
  CHECK(axis.lo == doctest::Approx(0.0));
  CHECK(axis.hi == doctest::Approx(1.0));
  CHECK(axis.ticks.size() == 6);
  SUBCASE("a single value or a constant series gets a range around it") {
    const svg::Axis constant = svg::axis_for({0.5, 0.5, 0.5});
    CHECK(constant.lo < 0.5);
    CHECK(constant.hi > 0.5);
    const svg::Axis zero = svg::axis_for({0.0});
    CHECK(zero.lo == doctest::Approx(-1.0));
    CHECK(zero.hi == doctest::Approx(1.0));
  }
  SUBCASE("epochs: no tick between two epochs") {
    const svg::Axis one_epoch = svg::axis_for({1.0}, 1);
    CHECK(one_epoch.step == 1);
    CHECK(one_epoch.lo == 0);
    CHECK(one_epoch.hi == 2);
  }
  SUBCASE("NaN, infinities and values beyond any scale are left out") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    const svg::Axis axis_without = svg::axis_for({nan, 1.0, inf, 2.0, -inf, 1e200});
    CHECK(axis_without.lo == doctest::Approx(1.0));
    CHECK(axis_without.hi == doctest::Approx(2.0));
    const svg::Axis nothing = svg::axis_for({nan});
    CHECK(nothing.lo == 0);
    CHECK(nothing.hi == 1);
  }
}

TEST_CASE("tick_text") {
  CHECK(svg::tick_text(0.4, 0.2) == "0.4");
  CHECK(svg::tick_text(3, 1) == "3");
  CHECK(svg::tick_text(-1e-17, 0.05) == "0.00");
  CHECK(svg::tick_text(0.001, 0.0005) == "0.0010");
}

TEST_CASE("line_chart: one svg element, every point marked, text escaped") {
  const std::string chart = svg::line_chart(chart_of({{1, 0.9}, {2, 0.5}, {3, 0.25}}));
  CHECK(chart.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(chart.find("</svg>") == chart.size() - 7);
  CHECK(occurrences(chart, "<circle") == 3);
  CHECK(occurrences(chart, "<polyline") == 1);
  CHECK(chart.find("nan") == std::string::npos);
  SUBCASE("one epoch: a point, no line, no division by zero") {
    const std::string one = svg::line_chart(chart_of({{1, 0.7}}));
    CHECK(occurrences(one, "<circle") == 1);
    CHECK(occurrences(one, "<polyline") == 0);
    CHECK(one.find("nan") == std::string::npos);
    CHECK(one.find("inf") == std::string::npos);
  }
  SUBCASE("a constant series is a flat line in the middle") {
    const std::string flat = svg::line_chart(chart_of({{1, 0.5}, {2, 0.5}}));
    CHECK(occurrences(flat, "<polyline") == 1);
    CHECK(flat.find("nan") == std::string::npos);
  }
  SUBCASE("a NaN point is skipped and breaks the line") {
    const std::string broken =
        svg::line_chart(chart_of({{1, 0.9}, {2, 0.8}, {3, std::nan("")}, {4, 0.6}, {5, 0.5}}));
    CHECK(occurrences(broken, "<circle") == 4);
    CHECK(occurrences(broken, "<polyline") == 2);
    CHECK(broken.find("nan") == std::string::npos);
  }
  SUBCASE("nothing finite: the chart says so") {
    const std::string empty = svg::line_chart(chart_of({{1, std::nan("")}}));
    CHECK(empty.find("no finite values to plot") != std::string::npos);
    CHECK(occurrences(empty, "<circle") == 0);
  }
  SUBCASE("names that are markup") {
    svg::LineChart hostile = chart_of({{1, 1}});
    hostile.title = "<script>&";
    hostile.series[0].name = "a\"b<c>";
    const std::string text = svg::line_chart(hostile);
    CHECK(text.find("<script>") == std::string::npos);
    CHECK(text.find("&lt;script&gt;&amp;") != std::string::npos);
    CHECK(text.find("a&quot;b&lt;c&gt;") != std::string::npos);
  }
}

TEST_CASE("heat_map: K*K cells coloured by row share, counts written, names escaped") {
  svg::HeatMap map{"Confusion matrix", {"<b>&\"x", "cat", "dog"}, {{5, 0, 0}, {1, 3, 0}, {0, 0, 0}}};
  const std::string text = svg::heat_map(map);
  CHECK(occurrences(text, "<rect class=\"cell\"") == 9);
  CHECK(text.find("<b>") == std::string::npos);
  CHECK(text.find("&lt;b&gt;&amp;&quot;x") != std::string::npos);
  CHECK(text.find("fill=\"#08519c\"") != std::string::npos);  // 5 of 5: the darkest
  CHECK(occurrences(text, "fill=\"#ffffff\" stroke") == 6);   // zeros, the empty row too
  CHECK(text.find(">3</text>") != std::string::npos);
  CHECK(text.find("true cat, predicted cat: 3 (75.0% of the true class)") != std::string::npos);
  SUBCASE("a matrix that is not K x K is a bug, not a picture") {
    map.counts.pop_back();
    REQUIRE_THROWS_WITH_AS(svg::heat_map(map), "a confusion matrix for 3 classes is not 3 x 3", mlc::Error);
  }
}
