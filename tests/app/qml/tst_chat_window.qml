// The chat window driven like a user would: type, press Enter, watch the
// answer stream; stop; regenerate; the thinking section folding; search; the
// effort buttons. Runs the real Main.qml over real controllers and a real
// history file, with a scripted engine.
import QtQuick
import QtTest
import Ossdesk.Ui

TestCase {
    id: tc
    name: "ChatWindow"
    when: windowShown
    width: 1100
    height: 760

    property var window: null

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
    function findAll(item, name, out) {
        if (!item) return out
        if (item.objectName === name) out.push(item)
        const kids = item.children !== undefined ? item.children : []
        for (let i = 0; i < kids.length; ++i) findAll(kids[i], name, out)
        return out
    }
    function root() { return window.contentItem }
    // An answer of `count` paragraphs of 16 words, a piece per word.
    function paragraphPieces(count) {
        const pieces = []
        for (let p = 0; p < count; ++p) {
            for (let w = 0; w < 16; ++w) pieces.push("word" + w + " ")
            pieces.push("\n\n")
        }
        return pieces
    }
    function sendByTyping(text) {
        const input = findByName(root(), "composerInput")
        verify(input, "composer input")
        input.forceActiveFocus()
        input.text = text
        keyClick(Qt.Key_Return)
    }

    function initTestCase() {
        const component = Qt.createComponent("qrc:/Ossdesk/Ui/Main.qml")
        compare(component.status, Component.Ready, component.errorString())
        window = component.createObject(null, { chat: testChat, models: testModels, settings: testSettings })
        verify(window)
        window.show()
        tryVerify(() => window.visible)
        testModels.load("/models/scripted.gguf")
        tryCompare(testModels, "state", "ready", 5000)
    }
    function cleanupTestCase() { window.destroy() }
    function init() {
        // Any warning fails the test: a delegate that QML could not create
        // says so only as a warning (the sidebar's date headers once did).
        failOnWarning(/.*/)
        testChat.newConversation()
        probe.setLongAnswer(false)
    }

    function test_1_send_and_see_it_stream() {
        const before = probe.submissions()
        sendByTyping("How do tides work?")
        tryCompare(testChat, "busy", false, 5000)
        compare(probe.submissions(), before + 1)
        compare(testChat.messages.count, 2)
        compare(testChat.currentTitle, "How do tides work?")
        tryVerify(() => findAll(root(), "statsLine", []).length > 0)
        const input = findByName(root(), "composerInput")
        compare(input.text, "")  // sent, so cleared
    }

    function test_2_stop() {
        probe.setLongAnswer(true)
        sendByTyping("Write a long essay")
        tryCompare(testChat, "busy", true, 2000)
        tryVerify(() => findAll(root(), "liveStats", []).length > 0, 3000)
        const stop = findByName(root(), "stopButton")
        verify(stop, "Stop appears while streaming")
        mouseClick(stop)
        tryCompare(testChat, "busy", false, 5000)
        const status = testChat.messages.data(testChat.messages.index(1, 0), Qt.UserRole + 6)
        compare(status, "cancelled")
    }

    function test_3_regenerate_creates_a_branch() {
        sendByTyping("Pick a number")
        tryCompare(testChat, "busy", false, 5000)
        const regenerate = findAll(root(), "regenerate", []).filter(b => b.visible)[0]
        verify(regenerate, "Regenerate on the last answer")
        mouseClick(regenerate)
        tryCompare(testChat, "busy", false, 5000)
        compare(testChat.messages.count, 2)
        tryVerify(() => findAll(root(), "branchPosition", []).filter(p => p.visible && p.text === "2/2").length === 1, 3000)
    }

    function test_4_reasoning_collapses_when_the_answer_starts() {
        probe.setLongAnswer(true)
        sendByTyping("Explain entropy")
        // While only reasoning has come, it is open; once the answer streams, folded.
        tryVerify(() => { const r = findAll(root(), "reasoningText", []); return r.length > 0 && testChat.busy }, 3000)
        tryVerify(() => {
            const r = findAll(root(), "reasoningText", [])
            return r.length > 0 && !r[r.length - 1].parent.visible
        }, 5000, "the thinking section folds when the answer starts")
        testChat.stop()
        tryCompare(testChat, "busy", false, 5000)
        // One Thinking header, the answer's: a user's message builds none.
        const headers = findAll(root(), "thinkingHeader", [])
        compare(headers.length, 1)
        const header = headers[0]
        verify(header.visible)
        verify(header.text.indexOf("Thought for") >= 0, header.text)
        mouseClick(header)  // open it again by hand
        const r = findAll(root(), "reasoningText", []).pop()
        tryVerify(() => r.parent.visible)
        compare(r.text, "Let me think about this.")
    }

    // A table is drawn from its cells (each column aligned as the delimiter
    // row says) and a numbered list an item a block; a selection across the
    // answer takes the table whole, as its Markdown, and the items as lines.
    function test_17_tables_and_numbered_lists_in_a_selection() {
        probe.setScript(["Hm."], ["Alpha paragraph.\n\n", "| a | b |\n|---|--:|\n", "| 1 | **2** |\n\n",
                                  "1. first\n", "2. second\n\n", "Omega last words.\n"], 0)
        sendByTyping("A table and a list")
        tryCompare(testChat, "busy", false, 5000)
        const cells = findAll(root(), "tableCell", [])
        compare(cells.map(c => c.text), ["a", "b", "1", "**2**"])
        compare(cells[3].horizontalAlignment, Text.AlignRight)
        compare(cells[2].horizontalAlignment, Text.AlignLeft)
        verify(cells[0].font.bold && !cells[2].font.bold, "the header is bold")
        compare(findAll(root(), "listMarker", []).filter(m => m.visible).map(m => m.text), ["1.", "2."])

        const blocks = findAll(root(), "answerProse", [])
        compare(blocks.map(b => b.text.trim()), ["Alpha paragraph.", "first", "second", "Omega last words."])  // TextEdit gives its Markdown back with a paragraph end
        const first = blocks[0], last = blocks[3]
        mousePress(first, 1, first.height / 2, Qt.LeftButton, Qt.NoModifier, 500)
        mouseMove(first, first.width / 2, first.height / 2, -1, Qt.LeftButton)
        mouseMove(cells[3], 5, cells[3].height / 2, -1, Qt.LeftButton)
        mouseMove(last, 30, last.height / 2, -1, Qt.LeftButton)
        mouseRelease(last, 30, last.height / 2)
        keyClick(Qt.Key_C, Qt.ControlModifier)
        compare(probe.clipboardText(), "Alpha paragraph.\n\n| a | b |\n|---|--:|\n| 1 | **2** |\n\nfirst\nsecond\n\n" + last.selectedText)
        verify(last.selectedText.length > 0)
    }

    // Raw HTML loses nothing (Qt 6.4 dropped the rest of a paragraph after a
    // tag that is never closed): "<br>" breaks the line, in prose and in a
    // table cell; "Vector<int>" and "a<b and c>d" show as written.
    function test_18_raw_html_loses_nothing() {
        probe.setScript(["Hm."], ["First line<br>second line, a Vector<int>, ", "a<b and c>d, <b>bold</b> end\n\n",
                                  "| a |\n|---|\n| x<br>y |\n\n", "[^1]: Source, 2024.\n"], 0)
        sendByTyping("Break lines")
        tryCompare(testChat, "busy", false, 5000)
        const prose = findAll(root(), "answerProse", [])[0]
        const shown = prose.getText(0, prose.length)
        compare(shown, "First line\u2028second line, a Vector<int>, a<b and c>d, bold end")
        const footnote = findAll(root(), "answerProse", [])[1]
        compare(footnote.getText(0, footnote.length), "[^1]: Source, 2024.")  // a footnote, not a hidden link definition
        const cells = findAll(root(), "tableCell", [])
        compare(cells.length, 2)
        verify(cells[1].implicitHeight > 1.5 * cells[0].implicitHeight, "x and y on two lines")
    }

    // The sidebar groups conversations under date headers.
    function test_16_the_sidebar_groups_by_date() {
        sendByTyping("Group me")
        tryCompare(testChat, "busy", false, 5000)
        tryVerify(() => findAll(root(), "sectionHeader", []).some(h => h.visible && h.text === "Today"), 3000)
    }

    function test_5_search_finds_a_message() {
        sendByTyping("Tell me about the axolotl")
        tryCompare(testChat, "busy", false, 5000)
        const field = findByName(root(), "search")
        field.forceActiveFocus()
        field.text = "axolotl"
        const results = findByName(root(), "searchResults")
        tryVerify(() => results.visible && results.count === 1, 3000)
        field.text = ""
        tryVerify(() => !results.visible)
    }

    function test_6_effort_choice_reaches_the_system_message() {
        const high = findByName(root(), "effort_high")
        verify(high)
        mouseClick(high)
        compare(testChat.reasoningEffort, "high")
        sendByTyping("Prove it")
        tryCompare(testChat, "busy", false, 5000)
        compare(probe.lastEffort(), "high")
        const low = findByName(root(), "effort_low")
        mouseClick(low)
        compare(testChat.reasoningEffort, "low")
        sendByTyping("And quickly?")
        tryCompare(testChat, "busy", false, 5000)
        compare(probe.lastEffort(), "low")
    }

    // A long answer is drawn as pieces (its top-level Markdown blocks, the
    // reasoning cut at line breaks), and while it streams the finished pieces
    // stay the same items with the same text: only the end is laid out again.
    function test_7_streaming_redraws_only_the_end() {
        const reasoning = []
        for (let i = 0; i < 160; ++i) reasoning.push("Reasoning line " + i + " weighs one more thing.\n")
        const answer = paragraphPieces(10)
        probe.setScript(reasoning, answer, 10)
        sendByTyping("Explain it slowly")

        tryVerify(() => findAll(root(), "reasoningText", []).length >= 2, 5000, "the reasoning comes in pieces")
        const firstPiece = findAll(root(), "reasoningText", [])[0]
        const firstPieceText = firstPiece.text
        verify(firstPieceText.length >= 2000, firstPieceText.length)

        tryVerify(() => findAll(root(), "answerProse", []).length >= 2, 5000, "the answer comes in blocks")
        const firstBlock = findAll(root(), "answerProse", [])[0]
        const firstBlockText = firstBlock.text
        verify(firstBlockText.indexOf("word15") > 0, firstBlockText)
        verify(testChat.busy)
        tryVerify(() => findAll(root(), "answerProse", []).length >= 5, 5000)
        verify(testChat.busy, "still streaming (else the view may have been rebuilt)")
        verify(findAll(root(), "answerProse", [])[0] === firstBlock, "the first block is the same item")
        compare(firstBlock.text, firstBlockText)
        verify(findAll(root(), "reasoningText", [])[0] === firstPiece, "the first reasoning piece is the same item")
        compare(firstPiece.text, firstPieceText)

        tryCompare(testChat, "busy", false, 10000)
        compare(findAll(root(), "answerProse", []).length, 10)
        const content = String(testChat.messages.data(testChat.messages.index(1, 0), Qt.UserRole + 3))
        compare(content, answer.join(""))
    }

    // When the answer finishes, what the user did while it streamed stays: the
    // reasoning opened by hand, the place scrolled to (the view is changed in
    // place, not rebuilt).
    function test_8_a_finished_answer_keeps_what_the_user_did() {
        probe.setScript(["Short ", "reasoning."], paragraphPieces(40), 4)
        sendByTyping("A long one")
        tryVerify(() => findAll(root(), "answerProse", []).length > 0, 5000)
        const header = findAll(root(), "thinkingHeader", []).filter(h => h.visible).pop()
        const reasoning = findAll(root(), "reasoningText", [])[0]
        tryVerify(() => !reasoning.visible, 3000, "folded once the answer starts")
        // Opened again by hand. (The delay moves QTest's own event clock on: after
        // the clicks of the tests before, a click without it never reached the button.)
        mouseClick(header, header.width / 2, header.height / 2, Qt.LeftButton, Qt.NoModifier, 1000)
        tryVerify(() => reasoning.visible)
        const list = findByName(root(), "chatView")
        tryVerify(() => list.contentHeight > 2 * list.height, 5000, "an answer taller than the window")
        verify(testChat.busy)
        list.following = false  // as when the user scrolls up to read
        list.contentY = list.originY + list.height / 2
        const y = list.contentY
        tryCompare(testChat, "busy", false, 10000)
        wait(100)
        compare(list.contentY, y, "the view stays where the user scrolled to")
        verify(findAll(root(), "reasoningText", [])[0] === reasoning, "the reasoning is the same item")
        verify(reasoning.visible, "the reasoning opened by hand stays open")
    }

    // A title being renamed in the sidebar stays open with what was typed
    // when the answer finishes and the sidebar is read again.
    function test_9_renaming_in_the_sidebar_survives_an_answer() {
        const answer = []
        for (let i = 0; i < 150; ++i) answer.push("word ")
        probe.setScript(["Hm."], answer, 10)
        sendByTyping("Rename me while you answer")
        tryCompare(testChat, "busy", true, 2000)
        const id = testChat.currentConversationId
        const row = findAll(root(), "conversationRow", []).filter(r => r.conversationId === id)[0]
        verify(row, "the conversation is in the sidebar")
        mouseDoubleClickSequence(row, 20, row.height / 2)
        const edit = findAll(row, "titleEdit", [])[0]
        tryVerify(() => edit.visible && edit.activeFocus, 2000, "renaming in place")
        edit.text = "Kept while answering"
        verify(testChat.busy)
        tryCompare(testChat, "busy", false, 10000)
        wait(50)
        verify(edit.visible && edit.activeFocus, "still renaming after the answer finished")
        compare(edit.text, "Kept while answering")
        keyClick(Qt.Key_Return)
        tryCompare(testChat, "currentTitle", "Kept while answering")
    }

    // The answer is drawn as one text per block, but a drag selects across
    // them as across one text, and Ctrl+C copies what it covers; so does a
    // drag over the reasoning's pieces. A click in a block ends it.
    function test_10_a_selection_runs_across_blocks_and_pieces() {
        const reasoning = []
        // 12 lines of 250 characters: two pieces (the first ends at the first
        // line break past 2000 characters), both on screen.
        for (let i = 0; i < 12; ++i) reasoning.push(("Reasoning line " + i + " weighs one more thing. ").repeat(7).padEnd(250, ".") + "\n")
        probe.setScript(reasoning, ["Alpha paragraph one.\n\n", "Beta paragraph two.\n\n", "- gamma item\n- delta item\n\n",
                                    "```\ncode line\n```\n\n", "Omega last words.\n"], 0)
        sendByTyping("Several blocks")
        tryCompare(testChat, "busy", false, 5000)
        const blocks = findAll(root(), "answerProse", [])
        compare(blocks.length, 4)
        const first = blocks[0], last = blocks[3]

        // Down: from the start of the first block to a few letters into the last.
        // (Each press waits: QTest's event clock must move on, or a press
        // soon after the click before reads as a double-click or is lost.)
        mousePress(first, 1, first.height / 2, Qt.LeftButton, Qt.NoModifier, 500)
        mouseMove(first, first.width / 2, first.height / 2, -1, Qt.LeftButton)
        mouseMove(blocks[1], 10, blocks[1].height / 2, -1, Qt.LeftButton)
        mouseMove(last, 30, last.height / 2, -1, Qt.LeftButton)
        mouseRelease(last, 30, last.height / 2)
        compare(first.selectedText, "Alpha paragraph one.")
        compare(blocks[1].selectedText, "Beta paragraph two.")
        verify(last.selectedText.length > 0 && "Omega last words.".startsWith(last.selectedText), last.selectedText)
        verify(first.activeFocus)
        keyClick(Qt.Key_C, Qt.ControlModifier)
        compare(probe.clipboardText(), "Alpha paragraph one.\n\nBeta paragraph two.\n\ngamma item\ndelta item\n\ncode line\n\n"
                + last.selectedText)

        // Up: from the last block into the second; the first is left out.
        mousePress(last, last.width - 2, last.height / 2, Qt.LeftButton, Qt.NoModifier, 500)
        mouseMove(last, 5, last.height / 2, -1, Qt.LeftButton)
        mouseMove(blocks[1], 20, blocks[1].height / 2, -1, Qt.LeftButton)
        mouseRelease(blocks[1], 20, blocks[1].height / 2)
        compare(first.selectedText, "")
        verify(blocks[1].selectedText.length > 0 && "Beta paragraph two.".endsWith(blocks[1].selectedText), blocks[1].selectedText)
        verify(blocks[1].selectedText.length < "Beta paragraph two.".length)
        compare(last.selectedText, "Omega last words.")
        keyClick(Qt.Key_C, Qt.ControlModifier)
        verify(probe.clipboardText().endsWith("delta item\n\ncode line\n\nOmega last words."), probe.clipboardText())

        // A click in a block ends the selection everywhere.
        mouseClick(blocks[2], 5, 5, Qt.LeftButton, Qt.NoModifier, 500)
        for (const b of blocks) compare(b.selectedText, "")

        // The reasoning, opened by hand, comes as pieces; a drag over the cut
        // copies the text around it as it was, the line break included.
        const header = findAll(root(), "thinkingHeader", [])[0]
        mouseClick(header, header.width / 2, header.height / 2, Qt.LeftButton, Qt.NoModifier, 1000)
        const pieces = findAll(root(), "reasoningText", [])
        compare(pieces.length, 2)
        // The opened pieces are laid out, and the view follows its end, on the
        // next frame: press after that.
        const view = findByName(root(), "chatView")
        waitForRendering(view)
        mousePress(pieces[0], 2, pieces[0].height - 5, Qt.LeftButton, Qt.NoModifier, 500)
        mouseMove(pieces[0], 2, pieces[0].height + 2, -1, Qt.LeftButton)
        mouseMove(pieces[1], pieces[1].width - 2, 5, -1, Qt.LeftButton)
        mouseRelease(pieces[1], pieces[1].width - 2, 5)
        verify(pieces[0].selectedText.length > 0)
        verify(pieces[1].selectedText.length > 0)
        keyClick(Qt.Key_C, Qt.ControlModifier)
        const copied = probe.clipboardText()
        verify(copied === pieces[0].selectedText.replace(/\u2029/g, "\n") + "\n" + pieces[1].selectedText, copied)
        verify(reasoning.join("").indexOf(copied) >= 0, copied)
    }

    // A drag past the bottom of the chat view scrolls it and the selection
    // follows into blocks that were out of sight; past the top, the same
    // upwards; the scroll stops with the release.
    function test_12_a_selection_dragged_past_the_view_scrolls_it() {
        const paragraphs = []
        for (let i = 0; i < 60; ++i) paragraphs.push("Paragraph " + i + " says one thing.\n\n")
        probe.setScript(["Brief."], paragraphs, 0)
        sendByTyping("A long answer")
        tryCompare(testChat, "busy", false, 5000)
        const view = findByName(root(), "chatView")
        const blocks = findAll(root(), "answerProse", [])
        compare(blocks.length, 60)
        view.positionViewAtBeginning()
        waitForRendering(view)
        const top = view.contentY
        const first = blocks[0]
        verify(first.mapToItem(view, 0, 0).y >= 0)
        verify(blocks[59].mapToItem(view, 0, 0).y > view.height)  // out of sight

        // Down: press in the first block, hold the pointer below the view.
        mousePress(first, 1, first.height / 2, Qt.LeftButton, Qt.NoModifier, 500)
        mouseMove(first, first.width / 2, first.height / 2, -1, Qt.LeftButton)
        mouseMove(view, view.width / 2, view.height + 30, -1, Qt.LeftButton)
        tryVerify(() => view.atYEnd, 5000, "the view scrolls to its end")
        verify(!view.following)
        compare(first.selectedText, "Paragraph 0 says one thing.")
        compare(blocks[30].selectedText, "Paragraph 30 says one thing.")
        verify(blocks[59].selectedText.length > 0, "the last block, out of sight at the press, is selected")
        mouseRelease(view, view.width / 2, view.height + 30)
        keyClick(Qt.Key_C, Qt.ControlModifier)
        verify(probe.clipboardText().startsWith("Paragraph 0 says one thing.\n\nParagraph 1 says"), probe.clipboardText())
        verify(probe.clipboardText().indexOf("Paragraph 58 says one thing.\n\nParagraph 59") > 0, probe.clipboardText())

        // Up: from the last block to above the view, then back inside it:
        // the scroll stops where the pointer came back in.
        const last = blocks[59]
        mousePress(last, last.width - 2, last.height / 2, Qt.LeftButton, Qt.NoModifier, 500)
        mouseMove(last, 5, last.height / 2, -1, Qt.LeftButton)
        mouseMove(view, view.width / 2, -30, -1, Qt.LeftButton)
        tryVerify(() => blocks[20].mapToItem(view, 0, 0).y > 0, 5000, "the view scrolls up")
        mouseMove(view, view.width / 2, view.height / 2, -1, Qt.LeftButton)
        const stopped = view.contentY
        wait(200)
        compare(view.contentY, stopped)
        mouseRelease(view, view.width / 2, view.height / 2)
        verify(stopped < view.contentHeight - view.height && stopped >= top)
        compare(last.selectedText, "Paragraph 59 says one thing.")
        compare(blocks[0].selectedText, "")
        wait(200)
        compare(view.contentY, stopped, "no scroll after the release")
    }

    // Auto ran the model off the GPU: the model bar says so and why; a model
    // that loads where auto first tried says nothing more.
    function test_11_the_model_bar_says_why_not_on_the_gpu() {
        const note = findByName(root(), "backendFallback")
        verify(note)
        verify(!note.visible)
        probe.setFallback("cuda could not load the model: the model needs 13.10 GiB of device memory but RTX 4060 has 7.60 GiB free")
        testModels.load("/models/scripted.gguf")
        tryCompare(testModels, "state", "ready", 5000)
        tryVerify(() => note.visible)
        verify(note.text.indexOf("Running on CPU: cuda could not load the model: the model needs 13.10 GiB") === 0, note.text)
        probe.setFallback("")
        testModels.load("/models/scripted.gguf")
        tryCompare(testModels, "state", "ready", 5000)
        tryVerify(() => !note.visible)
    }

    // The CPU reads the weights into memory after the load: the model bar
    // shows how far, and the note goes once they are in; weights that do not
    // fit in free memory leave a warning; on a GPU nothing is shown.
    function test_13_the_model_bar_says_where_the_weights_are() {
        const note = findByName(root(), "weightsNote")
        verify(note)
        verify(!note.visible)
        probe.setWeights("reading", 4000, 1000, "reading the weights into memory in the background: 0.00 of 0.00 GiB done")
        testModels.load("/models/scripted.gguf")
        tryCompare(testModels, "state", "ready", 5000)
        tryVerify(() => note.visible)
        verify(note.text.indexOf("Reading the weights into memory: 25%") === 0, note.text)
        probe.setWeights("reading", 4000, 3000, "")
        tryVerify(() => note.text.indexOf("75%") > 0, 3000, "the controller polls while reading")
        probe.setWeights("memory", 4000, 4000, "weights in memory (0.00 GiB)")
        tryVerify(() => !note.visible, 3000, "the note goes once the weights are in memory")
        compare(testModels.weightsPlace, "memory")
        probe.setWeights("disk", 4000, 0, "too little free memory to hold the weights (11.26 GiB to read, 6.10 GiB free)")
        testModels.load("/models/scripted.gguf")
        tryCompare(testModels, "state", "ready", 5000)
        tryVerify(() => note.visible)
        verify(note.text.indexOf("Too little free memory to hold the weights (11.26 GiB to read") === 0, note.text)
        compare(note.color, Theme.warning)
        probe.setWeights("device", 0, 0, "")
        testModels.load("/models/scripted.gguf")
        tryCompare(testModels, "state", "ready", 5000)
        tryVerify(() => !note.visible)
        compare(testModels.weightsPlace, "device")
    }

    // A long bullet list streams as blocks of 16 items, drawn as one list: the
    // blocks after the first sit flush under the one before, and a selection
    // over them copies one list.
    function test_14_a_long_list_is_one_list() {
        const pieces = ["Twenty options:\n\n"]
        for (let i = 1; i <= 20; ++i) pieces.push("- option " + i + "\n")
        probe.setScript(["Listing."], pieces, 0)
        sendByTyping("Twenty options")
        tryCompare(testChat, "busy", false, 5000)
        const blocks = findAll(root(), "answerProse", [])
        compare(blocks.length, 3)  // the intro, items 1-16, items 17-20
        const gap = blocks[2].mapToItem(null, 0, 0).y - (blocks[1].mapToItem(null, 0, 0).y + blocks[1].height)
        verify(gap <= 0, "the list's second block is flush under its first (gap " + gap + ")")
        const intro = blocks[0].mapToItem(null, 0, 0).y + blocks[0].height
        verify(blocks[1].mapToItem(null, 0, 0).y - intro > 0, "the list stands apart from the paragraph before it")
        mousePress(blocks[1], 1, 5, Qt.LeftButton, Qt.NoModifier, 500)
        mouseMove(blocks[1], blocks[1].width / 2, 5, -1, Qt.LeftButton)
        mouseMove(blocks[2], blocks[2].width - 2, blocks[2].height - 3, -1, Qt.LeftButton)
        mouseRelease(blocks[2], blocks[2].width - 2, blocks[2].height - 3)
        keyClick(Qt.Key_C, Qt.ControlModifier)
        const copied = probe.clipboardText()
        verify(copied.indexOf("option 16\noption 17") >= 0, copied)
        verify(copied.endsWith("option 20"), copied)
    }

    // The settings' device list: "Best available", then each device the
    // chosen backend reports, by name (the CPU backend reports this machine's).
    function test_15_the_device_list_offers_each_device() {
        const backend = testSettings.backend
        testSettings.backend = "cpu"
        window.settingsDialog.open()
        tryVerify(() => window.settingsDialog.opened)
        const box = findByName(window.settingsDialog.contentItem, "deviceBox")
        verify(box)
        const devices = box.devices
        verify(devices.length > 0, "the CPU backend reports this machine")
        compare(box.count, devices.length + 1)
        compare(box.textAt(0), "Best available")
        for (let i = 0; i < devices.length; ++i)
            verify(box.textAt(i + 1).indexOf(devices[i].name) === 0, box.textAt(i + 1))
        window.settingsDialog.close()
        tryVerify(() => !window.settingsDialog.visible)
        testSettings.backend = backend
    }
}
