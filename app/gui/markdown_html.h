// Makes the raw HTML in an answer's Markdown safe for Qt 6.4's Markdown
// import, which loses text to it: an HTML tag makes the importer wait for
// the matching end tag, and a tag that has none swallows everything after it,
// to the end of the answer. Measured on Qt 6.4.2:
//   "Vector<int> v; end"         showed "Vector"
//   "if a<b and c>d then"        showed "if a"
//   "a<br>b"                     showed "a"   (a void element has no end tag)
//   "x\n\n<p>para\n\nafter"      showed "x"
// while "x<sup>2</sup>", "<https://example.com>" and a "<details>" block
// closed paragraphs later showed all their text. So, outside code:
//   - void elements are closed ("<br>" as "<br/>", which Qt draws as a line
//     break);
//   - an element closed later on its line, or anywhere later when it starts
//     its line (an HTML block, which keeps the prose one text), with matching
//     ends counted as Qt counts them, the end tag that closes it, autolinks
//     and comments closed on their line stay as written;
//   - any other "<" becomes "&lt;", which shows as "<" in Markdown and inside
//     an HTML block alike;
//   - indented code outside lists and the HTML blocks that run to an end
//     marker (<pre>, <script>, <style>, comments) are left as written.
#pragma once

#include <QStringList>

namespace ossdesk::gui {

// Prose lines (no fenced code among them) with their raw HTML made safe;
// whether an element is closed is looked for in all of them.
QStringList html_made_safe(const QStringList& prose_lines);

// One line made safe on its own (html_made_safe of that line alone).
QString inline_html_made_safe(const QString& line);

}  // namespace ossdesk::gui
