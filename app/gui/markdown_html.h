// Makes the raw HTML in an answer's Markdown safe for Qt 6.4's Markdown
// import, which loses text to it: an inline HTML tag makes the importer wait
// for its end tag, and a tag that has none swallows everything after it in
// its paragraph, list item or table cell. Measured on Qt 6.4.2:
//   "Vector<int> v; end"   showed "Vector"
//   "if a<b and c>d then"  showed "if a"
//   "a<br>b"               showed "a"   (a void element never has an end tag)
//   "the <b> key end"      showed "the "
// while "x<sup>2</sup>", "<https://example.com>" and a multi-line
// "<details>" block showed all their text. So, outside code:
//   - void elements are closed ("<br>" as "<br/>", which Qt draws as a line
//     break);
//   - an element closed later on its line, a closing tag that ends one, an
//     autolink and a comment closed on its line stay as written;
//   - any other "<" is escaped ("\<"), and shows as "<";
//   - HTML blocks (a line that starts with a block element such as <details>
//     or <div>, or that is one tag alone, up to the next blank line; a
//     comment, <pre>, <script> or <style> to its end) and indented code
//     blocks outside lists are left alone.
#pragma once

#include <QStringList>

namespace ossdesk::gui {

// Prose lines (no fenced code among them) with their raw HTML made safe.
QStringList html_made_safe(const QStringList& prose_lines);

// One line of a paragraph, list item or table row made safe.
QString inline_html_made_safe(const QString& line);

}  // namespace ossdesk::gui
