// What the sections of a model card share (card_content.cpp: summary, learning curves, lineage,
// config, history; card_evaluation.cpp: the evaluations). Private to lib/core.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "card_document.hpp"
#include "mlc/card.hpp"

namespace mlc::card {

Fact fact(std::string label, std::string value, bool code = false);
Column text_column(std::string title);
Column number_column(std::string title);
Column code_column(std::string title);

// A JSON value as one line of text; a catalogue row from before mlc refused invalid UTF-8 is
// shown with U+FFFD rather than failing the card.
std::string json_text(const nlohmann::json& value);

// "a, b, c", or `none` for no items.
std::string joined_or(const std::vector<std::string>& items, const char* none);

// Scores with 4 decimals, 1 as "1.0000" beside "0.9615"; supports (support[CLASS]) as the counts
// they are; NaN, infinities and very small or large values as number_text() writes them.
std::string metric_text(const std::string& name, double value);

// role, path, sha256.
Table data_files_table(const std::vector<DataFile>& files);

// The latest evaluation: metrics, per-class table, confusion matrix heat map, residual quantiles,
// the data it measured; a manifest's metrics labelled self-reported.
Section latest_evaluation(const CardFacts& facts);
// Every evaluation, newest first, one row each.
Section all_evaluations(const CardFacts& facts);

}  // namespace mlc::card
