#include "mlc/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mlc/error.hpp"
#include "mlc/markup.hpp"
#include "mlc/text.hpp"

namespace mlc::svg {
namespace {

// Beyond this a value cannot share an axis with others, and hi - lo could overflow to inf.
constexpr double kLargest = 1e150;
// The average advance of an 11 px sans-serif glyph: room for labels, which SVG cannot measure.
constexpr double kCharWidth = 6.5;
constexpr std::string_view kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                         "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};
constexpr const char* kText = "#1f2328";
constexpr const char* kMuted = "#57606a";

bool drawable(double value) { return std::isfinite(value) && std::fabs(value) <= kLargest; }

// Coordinates with two decimals: enough for a screen, short to read.
std::string px(double value) { return fmt::format("{:.2f}", value); }

std::string svg_open(int width, int height, const std::string& title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\" font-family=\"sans-serif\" font-size=\"11\" fill=\"{2}\">\n"
      "<title>{3}</title>\n<rect width=\"{0}\" height=\"{1}\" fill=\"#ffffff\"/>\n"
      "<text x=\"{4}\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">{3}</text>\n",
      width, height, kText, markup_escaped(title), px(width / 2.0));
}

struct Frame {  // the plot area inside the margins
  double left, top, width, height;
};

double scaled(double value, const Axis& axis, double from, double length) {
  return from + (value - axis.lo) / (axis.hi - axis.lo) * length;
}

std::string axes(const LineChart& chart, const Frame& frame, const Axis& x, const Axis& y) {
  const double bottom = frame.top + frame.height;
  const double right = frame.left + frame.width;
  std::string out;
  for (double tick : y.ticks) {
    const double ty = bottom - scaled(tick, y, 0, frame.height);
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e5e7eb\"/>\n", px(frame.left),
                       px(ty), px(right), px(ty));
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\">{}</text>\n",
                       px(frame.left - 6), px(ty + 4), kMuted, tick_text(tick, y.step));
  }
  for (double tick : x.ticks) {
    const double tx = scaled(tick, x, frame.left, frame.width);
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"{3}\"/>\n", px(tx), px(bottom),
                       px(bottom + 4), kMuted);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n", px(tx),
                       px(bottom + 16), kMuted, tick_text(tick, x.step));
  }
  out += fmt::format("<path d=\"M{0} {1}V{2}H{3}\" fill=\"none\" stroke=\"{4}\"/>\n", px(frame.left),
                     px(frame.top), px(bottom), px(right), kMuted);
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     px(frame.left + frame.width / 2), px(bottom + 32), markup_escaped(chart.x_label));
  out += fmt::format("<text transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     px(frame.top + frame.height / 2), markup_escaped(chart.y_label));
  return out;
}

// One series: a polyline per run of drawable points, a circle at every point with its value as a
// tooltip.
std::string series_marks(const Series& series, std::string_view colour, const Frame& frame, const Axis& x,
                         const Axis& y) {
  const double bottom = frame.top + frame.height;
  std::string lines;
  std::string markers;
  std::vector<std::string> run;
  const auto end_run = [&] {
    if (run.size() >= 2) {
      lines += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n", colour,
                           fmt::join(run, " "));
    }
    run.clear();
  };
  for (const auto& [vx, vy] : series.points) {
    if (!drawable(vx) || !drawable(vy)) {
      end_run();
      continue;
    }
    const double cx = scaled(vx, x, frame.left, frame.width);
    const double cy = bottom - scaled(vy, y, 0, frame.height);
    run.push_back(px(cx) + "," + px(cy));
    markers += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"><title>{}: {} = {}</title></circle>\n",
                           px(cx), px(cy), colour, markup_escaped(series.name), number_text(vx), number_text(vy));
  }
  end_run();
  return lines + markers;
}

// Swatch and name per series, left to right, wrapping at the chart's width; returns its height.
std::string legend(const LineChart& chart, double top, double* height) {
  std::string out;
  double lx = 16;
  double ly = top;
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const std::string name = shortened(chart.series[i].name, 40);
    const double item_width = 26 + kCharWidth * static_cast<double>(name.size());
    if (lx + item_width > chart.width && lx > 16) {
      lx = 16;
      ly += 16;
    }
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"4\" fill=\"{}\"/>\n", px(lx), px(ly - 4),
                       kPalette[i % std::size(kPalette)]);
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", px(lx + 18), px(ly), markup_escaped(name));
    lx += item_width + 12;
  }
  *height = chart.series.empty() ? 0 : ly - top + 16;
  return out;
}

// White to a dark blue by `share` (0..1).
std::string cell_colour(double share) {
  const auto channel = [share](int from, int to) {
    return static_cast<int>(std::lround(from + (to - from) * std::clamp(share, 0.0, 1.0)));
  };
  return fmt::format("#{:02x}{:02x}{:02x}", channel(255, 8), channel(255, 81), channel(255, 156));
}

}  // namespace

Axis axis_for(const std::vector<double>& values, double min_step) {
  double lo = 0;
  double hi = 0;
  bool any = false;
  for (double value : values) {
    if (!drawable(value)) continue;
    lo = any ? std::min(lo, value) : value;
    hi = any ? std::max(hi, value) : value;
    any = true;
  }
  if (!any) {
    lo = 0;
    hi = 1;
  } else if (hi - lo <= 1e-12 * std::max(std::fabs(lo), std::fabs(hi))) {  // constant, up to rounding
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * magnitude;
  for (double multiple : {1.0, 2.0, 5.0}) {
    if (raw <= multiple * magnitude) {
      step = multiple * magnitude;
      break;
    }
  }
  step = std::max(step, min_step);
  Axis axis;
  axis.step = step;
  const double first = std::floor(lo / step + 1e-9);
  const double last = std::ceil(hi / step - 1e-9);
  axis.lo = first * step;
  axis.hi = last * step;
  for (double i = first; i <= last && axis.ticks.size() < 50; ++i) axis.ticks.push_back(i * step);
  return axis;
}

std::string tick_text(double value, double step) {
  const int decimals = step >= 1 ? 0 : std::min(15, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  if (std::fabs(value) < step * 1e-6) value = 0;
  return fmt::format("{:.{}f}", value, decimals);
}

std::string line_chart(const LineChart& chart) {
  std::vector<double> xs;
  std::vector<double> ys;
  for (const auto& series : chart.series) {
    for (const auto& [x, y] : series.points) {
      if (drawable(x) && drawable(y)) {
        xs.push_back(x);
        ys.push_back(y);
      }
    }
  }
  const Axis x = axis_for(xs, chart.x_min_step);
  const Axis y = axis_for(ys);
  size_t widest_tick = 1;
  for (double tick : y.ticks) widest_tick = std::max(widest_tick, tick_text(tick, y.step).size());
  const double left = 30 + kCharWidth * static_cast<double>(widest_tick);
  const Frame frame{left, 30, chart.width - left - 16, chart.height - 30.0 - 44};

  double legend_height = 0;
  const std::string legend_marks = legend(chart, chart.height + 4.0, &legend_height);
  const int height = chart.height + static_cast<int>(std::ceil(legend_height));
  std::string out = svg_open(chart.width, height, chart.title);
  out += axes(chart, frame, x, y);
  if (xs.empty()) {
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">no finite values to plot</text>\n",
                       px(frame.left + frame.width / 2), px(frame.top + frame.height / 2), kMuted);
  }
  for (size_t i = 0; i < chart.series.size(); ++i) {
    out += series_marks(chart.series[i], kPalette[i % std::size(kPalette)], frame, x, y);
  }
  return out + legend_marks + "</svg>\n";
}

std::string heat_map(const HeatMap& map) {
  const size_t k = map.labels.size();
  if (map.counts.size() != k ||
      std::any_of(map.counts.begin(), map.counts.end(), [k](const auto& row) { return row.size() != k; })) {
    throw Error(ErrorKind::internal, fmt::format("a confusion matrix for {} classes is not {} x {}", k, k, k));
  }
  const double cell = k <= 6 ? 56 : k <= 12 ? 44 : std::max(10.0, 528.0 / static_cast<double>(k));
  const int count_font = cell >= 34 ? 11 : cell >= 20 ? 9 : 0;  // 0: too small to write in
  std::vector<std::string> shown;
  size_t widest = 1;
  for (const auto& label : map.labels) {
    shown.push_back(shortened(label, 24));
    widest = std::max(widest, shown.back().size());
  }
  const double label_room = kCharWidth * static_cast<double>(std::min<size_t>(widest, 24));
  const double left = 30 + label_room;
  const double top = 32;
  const double grid = cell * static_cast<double>(k);
  const double bottom = top + grid;
  // Column labels run down-left at 45 degrees, taking about 0.7 of their length downwards.
  const int width = static_cast<int>(std::ceil(left + grid + 20));
  const int height = static_cast<int>(std::ceil(bottom + 0.72 * label_room + 40));

  std::string out = svg_open(std::max(width, 240), height, map.title);
  for (size_t row = 0; row < k; ++row) {
    int64_t total = 0;
    for (int64_t count : map.counts[row]) total += count;
    for (size_t column = 0; column < k; ++column) {
      const int64_t count = map.counts[row][column];
      const double share = total > 0 ? static_cast<double>(count) / static_cast<double>(total) : 0;
      const double x = left + cell * static_cast<double>(column);
      const double y = top + cell * static_cast<double>(row);
      out += fmt::format(
          "<rect class=\"cell\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#ffffff\">"
          "<title>true {}, predicted {}: {} ({:.1f}% of the true class)</title></rect>\n",
          px(x), px(y), px(cell), px(cell), cell_colour(share), markup_escaped(map.labels[row]),
          markup_escaped(map.labels[column]), count, share * 100);
      if (count_font > 0) {
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" fill=\"{}\">{}</text>\n",
                           px(x + cell / 2), px(y + cell / 2 + count_font / 3.0), count_font,
                           share > 0.5 ? "#ffffff" : kText, count);
      }
    }
  }
  const int label_font = cell >= 14 ? 11 : 8;
  for (size_t i = 0; i < k; ++i) {
    const double middle = cell * (static_cast<double>(i) + 0.5);
    const std::string name = markup_escaped(shown[i]);
    const std::string full = markup_escaped(map.labels[i]);
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"{}\"><title>{}</title>{}</text>\n",
                       px(left - 6), px(top + middle + 4), label_font, full, name);
    out += fmt::format(
        "<text transform=\"translate({} {}) rotate(-45)\" text-anchor=\"end\" font-size=\"{}\">"
        "<title>{}</title>{}</text>\n",
        px(left + middle + 3), px(bottom + 8), label_font, full, name);
  }
  out += fmt::format(
      "<text transform=\"translate(12 {}) rotate(-90)\" text-anchor=\"middle\" fill=\"{}\">true class</text>\n",
      px(top + grid / 2), kMuted);
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">predicted class</text>\n",
                     px(left + grid / 2), height - 8, kMuted);
  return out + "</svg>\n";
}

}  // namespace mlc::svg
