#include "text_pieces.h"

#include <algorithm>

namespace ossdesk::gui {

QStringList split_plain_text(const QString& text) {
  QStringList pieces;
  if (text.isEmpty()) return pieces;
  qsizetype begin = 0;
  for (;;) {
    // The earlier of the two candidates. Whichever is found is where the
    // piece ends for good: text that comes later cannot put either before it.
    const qsizetype newline = text.indexOf('\n', begin + kPieceChars);
    const qsizetype space = text.indexOf(' ', begin + kLongestPiece);
    const qsizetype cut = newline < 0 ? space : space < 0 ? newline : std::min(newline, space);
    if (cut < 0) break;
    pieces << text.mid(begin, cut - begin);
    begin = cut + 1;
  }
  pieces << text.mid(begin);
  return pieces;
}

}  // namespace ossdesk::gui
