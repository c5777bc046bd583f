#include "markdown_blocks.h"

#include <QStringList>

namespace ossdesk::gui {
namespace {

// A fence line: up to three spaces, then three or more ` or ~.
bool fence(const QString& line, QChar* mark, int* length, QString* info) {
  int i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  if (i >= line.size() || (line[i] != '`' && line[i] != '~')) return false;
  const QChar c = line[i];
  int n = 0;
  while (i + n < line.size() && line[i + n] == c) ++n;
  if (n < 3) return false;
  *mark = c;
  *length = n;
  *info = line.mid(i + n).trimmed();
  return true;
}

}  // namespace

QVector<MarkdownBlock> split_markdown(const QString& markdown) {
  QVector<MarkdownBlock> out;
  const QStringList lines = markdown.split('\n');
  QStringList prose, code;
  bool in_code = false;
  QChar open_mark;
  int open_length = 0;
  QString language;
  auto flush_prose = [&] {
    const QString text = prose.join('\n');
    if (!text.trimmed().isEmpty()) out.push_back({MarkdownBlock::Prose, text, {}});
    prose.clear();
  };
  for (const QString& line : lines) {
    QChar mark;
    int length = 0;
    QString info;
    const bool is_fence = fence(line, &mark, &length, &info);
    if (!in_code) {
      if (is_fence && !(mark == '`' && info.contains('`'))) {
        flush_prose();
        in_code = true;
        open_mark = mark;
        open_length = length;
        language = info.section(' ', 0, 0);
        continue;
      }
      prose << line;
    } else if (is_fence && mark == open_mark && length >= open_length && info.isEmpty()) {
      out.push_back({MarkdownBlock::Code, code.join('\n'), language});
      code.clear();
      in_code = false;
    } else {
      code << line;
    }
  }
  if (in_code) out.push_back({MarkdownBlock::Code, code.join('\n'), language});
  else flush_prose();
  return out;
}

}  // namespace ossdesk::gui
