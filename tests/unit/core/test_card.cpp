#include <algorithm>
#include <cmath>
#include <string>

#include <doctest/doctest.h>

#include "mlc/card.hpp"

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A classifier trained by mlc whose class names, description and tags are markup.
mlc::CardFacts hostile_classifier() {
  mlc::CardFacts facts;
  mlc::VersionRecord& version = facts.version;
  version.model = "m";
  version.version = 2;
  version.state = mlc::State::evaluated;
  version.created_at = "2026-11-29T10:00:00.000Z";
  version.description = "<script>alert(1)</script>";
  version.tags = {{"k<&>", "v\"|x"}};
  version.config = {{"model", {{"architecture", "mlp"}}}, {"data", {{"note", "</pre><b>"}}}};
  version.model_info = {{"task", "classification"}, {"class_names", {"<b>&\"x", "cat"}}};
  version.lineage = {{"run", "m-run"}, {"git_commit", ""}};
  version.data_files = {mlc::DataFile{"path", "/data/a.csv", std::string(64, 'a')}};
  facts.epochs = {mlc::EpochMetrics{1, 0.9, {{"loss", 0.8}, {"accuracy", 0.5}}, 0.1},
                  mlc::EpochMetrics{2, 0.7, {{"loss", std::nan("")}, {"accuracy", 0.6}}, 0.1}};
  mlc::EvaluationRecord evaluation;
  evaluation.at = "2026-11-29T10:01:00.000Z";
  evaluation.samples = 4;
  evaluation.metrics = {{"accuracy", 0.75}, {"precision[<b>&\"x]", 1}, {"support[<b>&\"x]", 2}, {"support[cat]", 2}};
  evaluation.details = {{"class_names", {"<b>&\"x", "cat"}}, {"confusion_matrix", {{2, 0}, {1, 1}}}};
  facts.evaluations = {evaluation};
  facts.generated_at = "2026-11-29T10:02:00.000Z";
  return facts;
}

// Markdown outside its fenced code blocks, where text is literal and needs no escaping.
std::string outside_fences(const std::string& markdown) {
  std::string kept;
  bool fenced = false;
  size_t start = 0;
  while (start < markdown.size()) {
    const size_t end = std::min(markdown.find('\n', start), markdown.size());
    const std::string line = markdown.substr(start, end - start);
    if (line.rfind("```", 0) == 0) {
      fenced = !fenced;
    } else if (!fenced) {
      kept += line + "\n";
    }
    start = end + 1;
  }
  return kept;
}

}  // namespace

TEST_CASE("render_card: every section, catalogue text escaped in HTML, SVG and Markdown") {
  const mlc::Card card = mlc::render_card(hostile_classifier());
  for (const char* section : {"summary", "learning-curves", "evaluation", "evaluations", "lineage", "config",
                              "variants", "history"}) {
    CHECK(contains(card.html, std::string("<section id=\"") + section + "\">"));
  }
  CHECK_FALSE(contains(card.html, "<script>"));
  CHECK_FALSE(contains(card.html, "<b>"));
  CHECK_FALSE(contains(card.html, "</pre><b>"));
  CHECK(contains(card.html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK(contains(card.html, "&lt;b&gt;&amp;&quot;x"));
  CHECK(contains(card.html, "k&lt;&amp;&gt;=v&quot;|x"));
  CHECK(contains(card.html, "<rect class=\"cell\""));
  CHECK(contains(card.html, std::string(64, 'a')));
  CHECK(contains(card.html, "No variants are recorded for this version."));
  CHECK(contains(card.html, "not recorded (not trained in a git checkout)"));
  CHECK_FALSE(contains(card.html, "nan\""));  // the NaN validation loss is skipped, not drawn

  const std::string markdown = outside_fences(card.markdown);
  CHECK(contains(card.markdown, "```\n{\n"));  // the config, fenced
  CHECK_FALSE(contains(markdown, "<b>"));
  CHECK_FALSE(contains(markdown, "<script>"));
  CHECK(contains(card.markdown, "| \\<b\\>\\&\"x | 1.0000 |"));  // the per-class row
  CHECK(contains(card.markdown, "k\\<\\&\\>=v\"\\|x"));
  CHECK(contains(card.markdown, "## Variants"));
}

TEST_CASE("render_card: a registered artifact with self-reported metrics, never evaluated by mlc") {
  mlc::CardFacts facts;
  facts.version.model = "ext";
  facts.version.version = 1;
  facts.version.origin = mlc::Origin::artifact;
  facts.version.state = mlc::State::registered;
  mlc::EvaluationRecord stated;
  stated.origin = "manifest";
  stated.metrics = {{"accuracy", 0.99}};
  facts.evaluations = {stated};
  const mlc::Card card = mlc::render_card(facts);
  CHECK(contains(card.html, "Self-reported (manifest), not measured by mlc"));
  CHECK(contains(card.html, "self-reported (manifest), not measured by mlc"));
  CHECK(contains(card.html, "No epochs recorded"));
  CHECK(contains(card.html, "No training config"));
  CHECK_FALSE(contains(card.html, "<rect class=\"cell\""));

  facts.evaluations.clear();
  CHECK(contains(mlc::render_card(facts).html, "Not evaluated: mlc eval ext:1 records an evaluation."));
}
