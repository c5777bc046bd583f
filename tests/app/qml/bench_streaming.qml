// A benchmark, not a test (CTest does not run it): how long the UI thread is
// busy while a long answer or a long reasoning streams into the real window,
// read as the gaps between ticks of a 4 ms timer (a gap is the time the event
// loop could not run it: bindings, text layout, rendering). Prints, per band
// of the text's length so far, the median, 95th percentile and longest gap,
// and the longest gap around the finish (when the thread is read again from
// the history and the view updated in place).
//
//   QT_QPA_PLATFORM=offscreen build/tests/bin/app_qml -input tests/app/qml/bench_streaming.qml
//
// The scripted engine sends a piece of 4 characters every millisecond or so
// (a few hundred tokens a second), so a frame carries several pieces.
import QtQuick
import QtTest
import Ossdesk.Ui

TestCase {
    id: bench
    name: "StreamingBench"
    when: windowShown
    width: 1100
    height: 760

    property var window: null
    property var gaps: []  // [gap ms, characters streamed so far, when (ms since the epoch)]
    property double lastTick: 0
    property int role: 0   // the MessageListModel role whose length is tracked
    property bool sampling: false

    Timer {
        interval: 4
        repeat: true
        running: bench.sampling
        onTriggered: {
            const now = Date.now()
            if (bench.lastTick > 0) bench.gaps.push([now - bench.lastTick, bench.streamedChars(), now])
            bench.lastTick = now
        }
    }

    function streamedChars() {
        const n = testChat.messages.count
        return n < 2 ? 0 : String(testChat.messages.data(testChat.messages.index(n - 1, 0), role)).length
    }
    function findByName(item, name) {
        if (!item) return null
        if (item.objectName === name) return item
        const kids = item.children !== undefined ? item.children : []
        for (let i = 0; i < kids.length; ++i) {
            const found = findByName(kids[i], name)
            if (found) return found
        }
        if (item.contentItem && item.contentItem !== item) return findByName(item.contentItem, name)
        return null
    }
    // Markdown as gpt-oss writes it (headings, paragraphs with emphasis, code
    // spans and links, lists, code blocks) in pieces of 4 characters.
    function markdownPieces(chars) {
        const out = []
        let n = 0
        const add = text => {
            for (let k = 0; k < text.length; k += 4) out.push(text.substr(k, 4))
            n += text.length
        }
        for (let i = 0; n < chars; ++i) {
            if (i % 12 === 0) add("## Part " + (i / 12 + 1) + "\n\n")
            if (i % 5 === 3) add("- the **first** point, with `a_name` in it\n- the second point, a little longer\n- a third\n\n")
            else if (i % 9 === 7) add("```python\ndef step(x):\n    return x * 2  # " + i + "\n```\n\n")
            else add("Paragraph " + i + " weighs the **option** the user asked about against `another_one`, and says why, "
                     + "in plain words, with a [link](https://example.com/" + i + ").\n\n")
        }
        return out
    }
    function run(label, analysis, answer, trackedRole) {
        gaps = []
        lastTick = 0
        role = trackedRole
        probe.setScript(analysis, answer, 1)
        testChat.newConversation()
        const input = findByName(window.contentItem, "composerInput")
        input.forceActiveFocus()
        input.text = "Explain"
        keyClick(Qt.Key_Return)
        sampling = true
        const start = Date.now()
        tryCompare(testChat, "busy", false, 600000)
        const finished = Date.now()
        wait(500)
        sampling = false
        console.log(label + ": " + (analysis.length + answer.length) + " pieces in " + (finished - start) + " ms")
        for (const band of [[0, 10000], [10000, 20000], [20000, 40000], [40000, 80000], [80000, 160000]]) {
            const g = gaps.filter(x => x[2] < finished && x[1] >= band[0] && x[1] < band[1]).map(x => x[0]).sort((a, b) => a - b)
            if (g.length === 0) continue
            console.log("  " + band[0] + "-" + band[1] + " characters: " + g.length + " ticks, gap median " + g[g.length >> 1]
                        + " ms, p95 " + g[Math.floor(g.length * 0.95)] + " ms, longest " + g[g.length - 1] + " ms")
        }
        // From a little before the finish is seen (tryCompare polls) to 500 ms after.
        const around = gaps.filter(x => x[2] >= finished - 100).map(x => x[0])
        console.log("  finish: longest gap " + Math.max(...around) + " ms")
        verify(gaps.length > 0)
    }

    function initTestCase() {
        const component = Qt.createComponent("qrc:/Ossdesk/Ui/Main.qml")
        compare(component.status, Component.Ready, component.errorString())
        window = component.createObject(null, { chat: testChat, models: testModels, settings: testSettings })
        window.show()
        tryVerify(() => window.visible)
        testModels.load("/models/scripted.gguf")
        tryCompare(testModels, "state", "ready", 5000)
    }
    function cleanupTestCase() { window.destroy() }

    function test_answer_of_60000_characters() {
        run("answer", ["Thinking."], markdownPieces(60000), Qt.UserRole + 3)  // ContentRole
    }
    // One block that keeps growing: a long program, a long list.
    function piecesOf(text) {
        const out = []
        for (let k = 0; k < text.length; k += 4) out.push(text.substr(k, 4))
        return out
    }
    function test_code_block_of_30000_characters() {
        let code = "Here it is:\n\n```python\n"
        for (let i = 0; code.length < 30000; ++i) code += "def step_" + i + "(x):\n    return x * " + i + "  # scale by " + i + "\n\n"
        run("code block", ["Thinking."], piecesOf(code + "```\n"), Qt.UserRole + 3)
    }
    function test_list_of_30000_characters() {
        let list = "The options:\n\n"
        for (let i = 0; list.length < 30000; ++i) list += "- option " + i + " weighs **this** against `that`, briefly\n"
        run("list", ["Thinking."], piecesOf(list), Qt.UserRole + 3)
    }
    // A numbered list at the margin comes an item a block; the same list
    // under a bullet item is one block that Qt lays out whole, as every
    // numbered list was before.
    function numberedList(indent) {
        let list = "The steps:\n\n" + (indent ? "- all of them\n" : "")
        for (let i = 1; list.length < 20000; ++i)
            list += indent + i + ". **Step " + i + "** weighs `this` against that\n" + indent + "   - a detail\n" + indent + "   - another\n"
        return list
    }
    function test_numbered_list_of_20000_characters() {
        run("numbered list", ["Thinking."], piecesOf(numberedList("")), Qt.UserRole + 3)
    }
    function test_numbered_list_in_one_block_of_20000_characters() {
        run("numbered list in one block", ["Thinking."], piecesOf(numberedList("  ")), Qt.UserRole + 3)
    }
    // A table, which the view draws from its cells (TableBlock), row by row.
    function test_table_of_20000_characters() {
        let table = "The comparison:\n\n| option | cost | speed | notes |\n|---|--:|--:|---|\n"
        for (let i = 1; table.length < 20000; ++i)
            table += "| option " + i + " | **" + (i * 7) + "** GB | " + (i * 3) + " tok/s | uses `flag_" + i + "` when it can |\n"
        run("table", ["Thinking."], piecesOf(table), Qt.UserRole + 3)
    }
    function test_reasoning_of_150000_characters() {
        const plain = markdownPieces(150000).map(p => p.replace(/[*`#]/g, ""))
        run("reasoning", plain, ["Done."], Qt.UserRole + 4)  // ReasoningRole
    }
}
