// What markdown_blocks.cpp and markdown_html.cpp both read from a line of
// Markdown: where a list item starts and how far a line is indented.
#pragma once

#include <QString>

namespace ossdesk::gui {

// The column after the white-space character `c` at `column` (a tab goes to
// the next multiple of 4).
inline int column_after(QChar c, int column) { return c == '\t' ? (column / 4 + 1) * 4 : column + 1; }

// The columns of a line's leading white space.
inline int indent_of(const QString& line) {
  int column = 0;
  for (QChar c : line) {
    if (c != ' ' && c != '\t') break;
    column = column_after(c, column);
  }
  return column;
}

// A line that may start a list item: a bullet (- + *) or a number of up to
// nine digits and . or ), then a space or the end of the line.
inline bool list_item_start(const QString& line) {
  if (line.isEmpty()) return false;
  if (line[0] == '-' || line[0] == '+' || line[0] == '*') return line.size() == 1 || line[1] == ' ' || line[1] == '\t';
  int digits = 0;
  while (digits < line.size() && digits < 10 && line[digits].isDigit()) ++digits;
  if (digits == 0 || digits > 9 || digits >= line.size() || (line[digits] != '.' && line[digits] != ')')) return false;
  return digits + 1 == line.size() || line[digits + 1] == ' ' || line[digits + 1] == '\t';
}

}  // namespace ossdesk::gui
