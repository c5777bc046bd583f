// Cuts a long plain text (the model's reasoning) into pieces the chat view
// lays out one by one, because Qt lays out a text whole: a 150,000-character
// reasoning took ~25 ms of every streamed frame as one text. Each piece ends
// at the first line break at least kPieceChars into it (the break itself is
// the cut, so the pieces drawn one under another read as the whole), or, in a
// paragraph longer than kLongestPiece without one, at the first space past
// that. A cut depends only on the text before it, so while the text streams
// the pieces before the last never change. No text, no pieces.
#pragma once

#include <QString>
#include <QStringList>

namespace ossdesk::gui {

constexpr qsizetype kPieceChars = 2000;
constexpr qsizetype kLongestPiece = 8000;

QStringList split_plain_text(const QString& text);

}  // namespace ossdesk::gui
