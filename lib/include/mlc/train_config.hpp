// The train config: the JSON file that `mlc train CONFIG.json` reads.
// schemas/train-config.schema.json describes every key, its limits and its default.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlc {

// Reads the config in `file` (strictly, and at most max_json_bytes(): json_input.hpp) and returns
// it ready for training (compute.hpp's TrainRequest):
//  1. applies each of `overrides` in order: "KEY.PATH=VALUE" sets that key, creating missing
//     objects on the way. VALUE is taken as JSON if it parses as JSON (5, 0.01, true, [256,128],
//     "\"007\"") and as a string otherwise (adam, data/train.csv). The CLI passes --set values and
//     its dedicated flags (--epochs 3 as "training.epochs=3") this way;
//  2. fills in the defaults that the schema declares for absent keys;
//  3. validates against the schema, so that an override is checked like the file itself (every
//     integer key has a range there that the compute side's types can hold);
//  4. makes the data file names absolute and lexically normal, resolving a relative one against
//     the directory of `file` when the file named it, and against the current directory when an
//     override did ("data.path=x.csv", or "data={...}" holding file names): each against what its
//     writer was looking at. Absolute names stay as they are.
// Throws Error:
//   not_found      "cannot read FILE: REASON"
//   invalid_input  "FILE:LINE:COLUMN: invalid JSON: REASON", a duplicate key, nesting too deep or
//                  an integer beyond 64 bits (parse_json in json_input.hpp, also for a VALUE that
//                  is JSON), a file over the size limit, a schema violation "FILE: KEY.PATH:
//                  REASON" (see validate_json in json_schema.hpp), or a VALUE, file name or data
//                  file name that is not valid UTF-8
//   usage          "--set 'ARG': expected KEY=VALUE", "--set 'ARG': 'KEY.PATH' is not an object"
// FILE is `file` as the caller gave it.
nlohmann::json load_train_config(const std::filesystem::path& file,
                                 const std::vector<std::string>& overrides);

}  // namespace mlc
