# Cuts man/mlc.1 into one page per subcommand, mlc-NAME(1), so that man/mlc.1 stays the one
# source of the manual. Run as a script at build time:
#   cmake -DSOURCE=man/mlc.1 -DOUTPUT_DIR=DIR [-DSTAMP=FILE] -P cmake/man_pages.cmake
# Each ".SS NAME" section under ".SH COMMANDS" becomes DIR/mlc-NAME.1 with
#   NAME         mlc-NAME \- the text of the section's '.\" summary:' comment
#   SYNOPSIS     the section's lines up to its first paragraph macro (.PP, .TP, .IP)
#   DESCRIPTION  the rest of the section
#   GLOBAL OPTIONS, copied from mlc(1), and SEE ALSO mlc(1) and the other subcommands' pages.
# The text is handled as one string, never as a CMake list: the page holds ';' and '[', which
# lists would split or mangle.
cmake_minimum_required(VERSION 3.25)

foreach(variable SOURCE OUTPUT_DIR)
  if(NOT DEFINED ${variable})
    message(FATAL_ERROR "man_pages.cmake: -D${variable}=... is required")
  endif()
endforeach()

file(READ "${SOURCE}" page)

# The text of the ".SH TITLE" section of the page, without its heading.
function(top_section title out)
  string(FIND "${page}" "\n.SH ${title}\n" start)
  if(start EQUAL -1)
    message(FATAL_ERROR "${SOURCE}: no '.SH ${title}' section")
  endif()
  string(LENGTH "\n.SH ${title}\n" heading)
  math(EXPR start "${start} + ${heading}")
  string(SUBSTRING "${page}" ${start} -1 rest)
  string(FIND "${rest}" "\n.SH " end)
  if(end GREATER -1)
    math(EXPR end "${end} + 1")
    string(SUBSTRING "${rest}" 0 ${end} rest)
  endif()
  set(${out} "${rest}" PARENT_SCOPE)
endfunction()

if(NOT page MATCHES "\n\\.TH MLC 1 (\"[^\"\n]*\" \"[^\"\n]*\" \"[^\"\n]*\")")
  message(FATAL_ERROR "${SOURCE}: no '.TH MLC 1 \"DATE\" \"SOURCE\" \"MANUAL\"' line")
endif()
set(title_rest "${CMAKE_MATCH_1}")
top_section("COMMANDS" commands)
top_section("GLOBAL OPTIONS" global_options)

# The sections, in order: NAME and text of each.
set(names "")
set(remaining "\n${commands}")
while(TRUE)
  string(FIND "${remaining}" "\n.SS " start)
  if(start EQUAL -1)
    break()
  endif()
  math(EXPR start "${start} + 5")
  string(SUBSTRING "${remaining}" ${start} -1 remaining)
  string(FIND "${remaining}" "\n" line_end)
  string(SUBSTRING "${remaining}" 0 ${line_end} name)
  string(STRIP "${name}" name)
  if(NOT name MATCHES "^[a-z][a-z0-9-]*$")
    message(FATAL_ERROR "${SOURCE}: '.SS ${name}' is not a subcommand's name")
  endif()
  math(EXPR line_end "${line_end} + 1")
  string(SUBSTRING "${remaining}" ${line_end} -1 remaining)
  string(FIND "${remaining}" "\n.SS " end)
  if(end EQUAL -1)
    set(section_${name} "${remaining}")
  else()
    math(EXPR end "${end} + 1")
    string(SUBSTRING "${remaining}" 0 ${end} section_${name})
  endif()
  list(APPEND names ${name})
endwhile()
if(names STREQUAL "")
  message(FATAL_ERROR "${SOURCE}: no '.SS' sections under '.SH COMMANDS'")
endif()

file(MAKE_DIRECTORY "${OUTPUT_DIR}")
file(GLOB stale "${OUTPUT_DIR}/mlc-*.1")
if(stale)
  file(REMOVE ${stale})
endif()

foreach(name IN LISTS names)
  set(text "${section_${name}}")
  if(text MATCHES "^\\.\\\\\" summary: ([^\n]+)\n")
    set(summary "${CMAKE_MATCH_1}")
    string(LENGTH "${CMAKE_MATCH_0}" skip)
    string(SUBSTRING "${text}" ${skip} -1 text)
  else()
    message(FATAL_ERROR "${SOURCE}: '.SS ${name}' has no '.\\\" summary: ...' line after it")
  endif()
  # The synopsis ends at the first paragraph macro; .PP itself is dropped, .TP and .IP stay.
  string(REGEX MATCH "\n\\.(PP|LP|P|TP|IP)( [^\n]*)?\n" first "${text}")
  if(first STREQUAL "")
    set(synopsis ".B mlc ${name}\n")
    set(description "${text}")
  else()
    string(FIND "${text}" "${first}" at)
    math(EXPR synopsis_end "${at} + 1")
    string(SUBSTRING "${text}" 0 ${synopsis_end} synopsis)
    if(first MATCHES "^\n\\.(PP|LP|P)")
      string(LENGTH "${first}" skip)
      math(EXPR at "${at} + ${skip}")
    else()
      math(EXPR at "${at} + 1")
    endif()
    string(SUBSTRING "${text}" ${at} -1 description)
  endif()

  set(others ${names})
  list(REMOVE_ITEM others ${name})
  set(see_also "")
  foreach(other IN LISTS others)
    string(APPEND see_also ".BR mlc\\-${other} (1),\n")
  endforeach()
  string(REGEX REPLACE ",\n$" "\n" see_also "${see_also}")
  string(TOUPPER "${name}" upper)
  string(REPLACE "-" "\\-" escaped "${name}")
  file(WRITE "${OUTPUT_DIR}/mlc-${name}.1"
".\\\" mlc-${name}(1), generated from man/mlc.1 by cmake/man_pages.cmake: edit man/mlc.1.
.TH MLC\\-${upper} 1 ${title_rest}
.nr HY 0
.nh
.ad l
.SH NAME
mlc\\-${escaped} \\- ${summary}
.SH SYNOPSIS
${synopsis}.SH DESCRIPTION
${description}.SH GLOBAL OPTIONS
${global_options}.SH SEE ALSO
.BR mlc (1):
references to versions
.RI ( NAME : VERSION ,
.IB NAME @ TARGET\\fR,\\fP
.IB NAME @ ALIAS\\fR),\\fP
the policy, files, environment and exit status;
.br
${see_also}")
endforeach()

if(DEFINED STAMP)
  file(TOUCH "${STAMP}")
endif()
