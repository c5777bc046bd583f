// Lets one mouse selection run over several texts drawn one under another:
// an answer's Markdown blocks, the reasoning's pieces. The chat view keeps
// them as separate items so that streaming lays out only the last one
// (MarkdownBody, ThinkingSection); without this a drag stopped at the edge of
// the text it began in.
//
// Lies over the texts and only watches the pointer (a PointHandler takes no
// grab), so the text pressed in still selects itself and its links and
// buttons still work; the texts the drag reaches are selected here, those in
// between whole. Ctrl+C in the text pressed in copies the whole selection
// (each text's `Keys.onPressed` calls `copyKey`). A drag past the top or
// bottom of the view that scrolls the texts (the chat list) scrolls it, the
// further past the faster, and the selection follows.
import QtQuick

Item {
    id: span
    // The text items (TextEdit) in reading order. A function, as the list
    // grows while an answer streams.
    property var texts: () => []
    // What stood between text i and i + 1 in the original, for the copy.
    property var separatorAfter: i => "\n\n"
    // Something copies text to the clipboard (ChatController).
    property var copier: null
    // The texts now (calls `texts`).
    function textItems() {
        const get = span.texts
        return get()
    }
    // The selection covers more than the text it began in.
    property bool spansSeveral: false
    property int anchorIndex: -1
    property Item anchorText: null

    // The text at y (in span's coordinates), else the last one above y.
    function indexAt(y) {
        const list = textItems()
        let found = list.length > 0 ? 0 : -1
        for (let i = 0; i < list.length; ++i)
            if (list[i].mapToItem(span, 0, 0).y <= y) found = i
        return found
    }
    function clear(except) {
        for (const t of textItems())
            if (t !== except) t.deselect()
        spansSeveral = false
    }
    // The nearest Flickable holding the span (the chat list), found on each
    // press: the span is built before it is placed in the list.
    property Flickable scrollView: null
    property point scenePoint
    function findScrollView() {
        for (let p = span.parent; p; p = p.parent)
            if (p.contentY !== undefined && p.flick !== undefined) return p
        return null
    }
    // One step of the scroll while the pointer is past the view's edge.
    function scrollStep() {
        const v = scrollView
        if (!v) return
        const y = v.mapFromItem(null, scenePoint.x, scenePoint.y).y
        const past = y < 0 ? y : y > v.height ? y - v.height : 0
        if (past === 0) return
        const step = Math.sign(past) * Math.min(40, Math.max(4, Math.abs(past) / 2))
        const top = v.originY - v.topMargin
        const bottom = Math.max(top, v.originY + v.contentHeight + v.bottomMargin - v.height)
        const to = Math.max(top, Math.min(bottom, v.contentY + step))
        if (to === v.contentY) return
        // A view that follows its end (ChatView's `following`) stops, as
        // after a user's scroll.
        if ("following" in v) v["following"] = false
        v.contentY = to
        extend(span.mapFromItem(null, scenePoint.x, scenePoint.y))
    }
    function begin(p) {
        scrollView = findScrollView()
        anchorIndex = indexAt(p.y)
        anchorText = anchorIndex >= 0 ? textItems()[anchorIndex] : null
        clear(anchorText)  // the anchor's own press sets its selection
    }
    function extend(p) {
        const list = textItems()
        if (anchorIndex < 0 || list[anchorIndex] !== anchorText) return
        const j = indexAt(p.y)
        const lo = Math.min(anchorIndex, j), hi = Math.max(anchorIndex, j)
        for (let i = 0; i < list.length; ++i) {
            const t = list[i]
            if (i === anchorIndex) continue  // selects itself from the press to the pointer
            if (i < lo || i > hi) {
                t.deselect()
            } else if (i !== j) {
                t.selectAll()
            } else {
                const local = t.mapFromItem(span, p.x, p.y)
                const at = t.positionAt(local.x, local.y)
                if (j > anchorIndex) t.select(0, at)
                else t.select(at, t.length)
            }
        }
        spansSeveral = j !== anchorIndex
    }
    // The selected text of every text in reading order, paragraph breaks as "\n".
    function selectedText() {
        const list = textItems()
        let out = ""
        let last = -1
        for (let i = 0; i < list.length; ++i) {
            const part = list[i].selectedText
            if (part === "") continue
            if (last >= 0) out += separatorAfter(last)
            out += part.replace(/[\u2028\u2029]/g, "\n")
            last = i
        }
        return out
    }
    function copyKey(event) {
        if (!spansSeveral || !copier || !event.matches(StandardKey.Copy)) return
        copier.copyText(selectedText())
        event.accepted = true
    }

    PointHandler {
        id: pointer
        acceptedButtons: Qt.LeftButton
        onActiveChanged: if (active) {
            span.scenePoint = point.scenePosition
            span.begin(point.position)
        }
        onPointChanged: if (active) {
            span.scenePoint = point.scenePosition
            span.extend(point.position)
        }
    }
    Timer {
        interval: 16
        repeat: true
        running: pointer.active && span.scrollView !== null
        onTriggered: span.scrollStep()
    }
    // Focus moving to a text elsewhere ends the selection, as it ends a
    // single text's.
    readonly property Item focusItem: Window.activeFocusItem
    onFocusItemChanged: if (spansSeveral && textItems().indexOf(focusItem) < 0) clear(null)
}
