// A model card (mlc card): what the catalogue knows about one version as a self-contained HTML
// page, its charts inline SVG, and a Markdown twin with tables instead of charts. Rendering is a
// pure function of the facts; write_card (operations.hpp) reads them from the catalogue and
// writes the files. Every catalogue text is escaped for its format (markup.hpp).
#pragma once

#include <string>
#include <vector>

#include "mlc/catalog.hpp"

namespace mlc {

struct CardFacts {
  VersionRecord version;
  std::vector<EpochMetrics> epochs;           // Catalog::epochs
  std::vector<EvaluationRecord> evaluations;  // newest first, as Catalog::evaluations gives them
  std::vector<HistoryEntry> history;          // the version's, oldest first
  std::string generated_at;                   // utc_now()
};

struct Card {
  std::string html;
  std::string markdown;
};

// Sections, in order: summary (state, dates, who, description, tags, aliases, targets,
// architecture, task), lineage (parent, run, git commit, data files and artifacts with their
// sha256), config, learning curves, the latest evaluation (metrics, per-class table, confusion
// matrix heat map, residual quantiles), every evaluation, variants, history. Throws nothing for
// missing facts (an artifact has no config or epochs; a version may never have been evaluated):
// the section says so.
Card render_card(const CardFacts& facts);

}  // namespace mlc
