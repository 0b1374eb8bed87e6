/// A binary min-heap: `popFirst()` returns the smallest element by `<`.
///
/// The BPE trainer keeps its candidate merges in one (ordered best first), and the encoder its
/// pending merges of a long piece (lowest merge rank first, then leftmost).
struct BinaryHeap<Element: Comparable> {
    private var elements: [Element] = []

    var isEmpty: Bool { elements.isEmpty }

    mutating func push(_ element: Element) {
        elements.append(element)
        var i = elements.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !(elements[i] < elements[parent]) { break }
            elements.swapAt(parent, i)
            i = parent
        }
    }

    mutating func popFirst() -> Element? {
        guard let first = elements.first else { return nil }
        elements.swapAt(0, elements.count - 1)
        elements.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var least = i
            if l < elements.count && elements[l] < elements[least] { least = l }
            if r < elements.count && elements[r] < elements[least] { least = r }
            if least == i { return first }
            elements.swapAt(i, least)
            i = least
        }
    }
}
