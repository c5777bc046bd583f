// Screenshots of the real window for a person to look at (the build's
// screenshots/ folder): empty state, a conversation with the reasoning
// expanded and collapsed, Markdown (table, code), settings, dark theme. Runs
// under Xvfb (xcb) from CTest; each grab must be a real picture (many colours),
// which fails on a blank or unrendered window.
import QtQuick
import QtTest
import Ossdesk.Ui

TestCase {
    name: "Screenshots"
    when: windowShown
    property var window: null

    function findAll(item, name, out) {
        if (!item) return out
        if (item.objectName === name) out.push(item)
        const kids = item.children !== undefined ? item.children : []
        for (let i = 0; i < kids.length; ++i) findAll(kids[i], name, out)
        return out
    }
    function shoot(name) {
        wait(300)  // let layouts and fonts settle
        const image = grabImage(window.contentItem.parent)
        const dir = probe.screenshotDir()
        if (dir !== "") image.save(dir + "/" + name + ".png")  // throws when it cannot
        // A rendered window has text and widgets: sample a grid and count colours.
        const colours = {}
        for (let x = 5; x < image.width; x += 23)
            for (let y = 5; y < image.height; y += 19) colours[image.pixel(x, y)] = true
        verify(Object.keys(colours).length >= 4, name + " looks blank")
    }

    function initTestCase() {
        const component = Qt.createComponent("qrc:/Ossdesk/Ui/Main.qml")
        compare(component.status, Component.Ready, component.errorString())
        testSettings.theme = "light"
        window = component.createObject(null, { chat: testChat, models: testModels, settings: testSettings, width: 1180, height: 780 })
        window.show()
        tryVerify(() => window.visible)
    }
    function cleanupTestCase() { window.destroy() }
    function init() { failOnWarning(/.*/) }  // what QML could not create says so only as a warning

    function test_1_empty_state() {
        testChat.newConversation()
        shoot("01-empty-no-model")
        testModels.load("/models/gpt-oss-20b-mxfp4.gguf")
        tryCompare(testModels, "state", "ready", 5000)
        shoot("02-empty-model-ready")
    }

    function test_2_conversation() {
        probe.setRichAnswer()
        testChat.send("How does MXFP4 compare with BF16 for gpt-oss-20b?")
        tryCompare(testChat, "busy", false, 5000)
        shoot("03-conversation-reasoning-collapsed")
        // The answer's (once the user's message had a hidden one, and 04 showed
        // the reasoning folded while the click went there).
        const headers = findAll(window.contentItem, "thinkingHeader", [])
        compare(headers.length, 1)
        const header = headers[0]
        mouseClick(header)
        tryVerify(() => findAll(window.contentItem, "reasoningText", []).some(t => t.visible), 2000, "the reasoning opened")
        shoot("04-conversation-reasoning-expanded")
    }

    function test_3_settings() {
        const button = findAll(window.contentItem, "openSettings", [])[0]
        mouseClick(button)
        tryVerify(() => window.settingsDialog.opened)
        shoot("05-settings")
        window.settingsDialog.close()
        tryVerify(() => !window.settingsDialog.visible)
    }

    function test_4_dark() {
        testSettings.theme = "dark"
        shoot("06-dark")
        mouseClick(findAll(window.contentItem, "openSettings", [])[0])
        tryVerify(() => window.settingsDialog.opened)
        shoot("07-dark-settings")
        window.settingsDialog.close()
        testSettings.theme = "light"
    }

    function test_5_off_the_gpu() {
        probe.setFallback("cuda could not load the model: the model needs 13.10 GiB of device memory (weights 12.82 GiB, "
                          + "KV cache 0.19 GiB) but NVIDIA GeForce RTX 4060 has 7.60 GiB free")
        testModels.load("/models/gpt-oss-20b-mxfp4.gguf")
        tryCompare(testModels, "state", "ready", 5000)
        tryVerify(() => findAll(window.contentItem, "backendFallback", [])[0].visible)
        shoot("08-model-bar-off-the-gpu")
        probe.setFallback("")
    }

    // On the CPU: the weights being read into memory after the load, then a
    // model too big for free memory.
    function test_6_weights_on_the_cpu() {
        probe.setWeights("reading", 12096587264, 4234000000,
                         "reading the weights into memory in the background: 3.94 of 11.26 GiB done")
        testModels.load("/models/gpt-oss-20b-mxfp4.gguf")
        tryCompare(testModels, "state", "ready", 5000)
        const note = findAll(window.contentItem, "weightsNote", [])[0]
        tryVerify(() => note.visible)
        shoot("09-model-bar-reading-weights")
        probe.setWeights("disk", 12096587264, 0, "too little free memory to hold the weights (11.26 GiB to read, "
                         + "6.10 GiB free): the CPU reads them from disk as tokens need them, which makes answers much slower")
        testModels.load("/models/gpt-oss-20b-mxfp4.gguf")
        tryCompare(testModels, "state", "ready", 5000)
        tryVerify(() => note.visible && note.text.indexOf("Too little free memory") === 0)
        shoot("10-model-bar-weights-on-disk")
        probe.setWeights("device", 0, 0, "")
        testModels.load("/models/gpt-oss-20b-mxfp4.gguf")
        tryCompare(testModels, "state", "ready", 5000)
        tryVerify(() => !note.visible)
    }

    // A list longer than one block (16 items): the blocks after the first sit
    // flush under it, as one list.
    function test_7_long_list() {
        const pieces = ["Twenty options:\n\n"]
        for (let i = 1; i <= 20; ++i) pieces.push("- option " + i + ": weighs **this** against `that`\n")
        probe.setScript(["Listing."], pieces, 1)
        testChat.newConversation()
        testChat.send("Give me twenty options")
        tryCompare(testChat, "busy", false, 5000)
        tryVerify(() => findAll(window.contentItem, "answerProse", []).length === 3)  // intro, 16 items, 4 items
        shoot("11-long-list")
    }

    // A numbered list, an item a block: the numbers go on past the first
    // block (Qt 6.4 would start each block at 1), stand where Qt puts a
    // list's numbers, and the items' nested lists (Qt's) sit under their text.
    function test_8_numbered_list() {
        const pieces = ["Set it up in order:\n\n"]
        for (let i = 1; i <= 12; ++i) {
            pieces.push(i + ". **Step " + i + "**: check the " + (i % 3 === 0 ? "driver, then the long line that wraps under the text of its item rather than under its number, as the lines of a list item drawn by Qt do" : "file") + "\n")
            if (i % 4 === 2) pieces.push("   - first detail\n   - second detail\n")
            if (i === 5) pieces.push("   1. nested one\n   2. nested two\n")
        }
        pieces.push("\nA bullet list for comparison:\n\n- one\n- two\n")
        probe.setScript(["Listing."], pieces, 1)
        testChat.newConversation()
        testChat.send("Give me twelve steps")
        tryCompare(testChat, "busy", false, 5000)
        tryVerify(() => findAll(window.contentItem, "listMarker", []).filter(m => m.visible).length === 12)
        const markers = findAll(window.contentItem, "listMarker", []).filter(m => m.visible).map(m => m.text)
        compare(markers, ["1.", "2.", "3.", "4.", "5.", "6.", "7.", "8.", "9.", "10.", "11.", "12."])
        shoot("12-numbered-list")
    }

    // A table as gpt-oss writes them: a column of names, numbers aligned
    // right, and notes long enough to wrap within their column.
    function test_9_table() {
        const pieces = ["Which quantization to pick:\n\n", "| format | bits | 20b size | notes |\n", "|---|--:|--:|---|\n"]
        const formats = [["BF16", "16", "41.8 GB", "the reference; needs a GPU with **48 GB** or a lot of system memory"],
                         ["MXFP4", "4.25", "12.8 GB", "what OpenAI ships; experts in `mxfp4`, the rest in bf16"],
                         ["Q8_0", "8.5", "22.2 GB", "close to bf16<br>twice the size of MXFP4"],
                         ["INT4 AutoRound", "4.2", "12.1 GB", "group size 128, symmetric; slightly lower quality on long reasoning chains than MXFP4"],
                         ["NVFP4", "4.5", "13.1 GB", "Blackwell tensor cores"]]
        for (const f of formats) pieces.push("| " + f.join(" | ") + " |\n")
        pieces.push("\nMXFP4 is the default.\n")
        probe.setScript(["Comparing."], pieces, 1)
        testChat.newConversation()
        testChat.send("Which quantization?")
        tryCompare(testChat, "busy", false, 5000)
        tryVerify(() => findAll(window.contentItem, "tableCell", []).length === 24)
        shoot("13-table")
        testSettings.theme = "dark"
        shoot("14-table-dark")
        testSettings.theme = "light"
    }
}
