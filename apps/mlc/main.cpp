#include "cli.hpp"

int main(int argc, char** argv) { return mlc::cli::run(argc, argv); }
