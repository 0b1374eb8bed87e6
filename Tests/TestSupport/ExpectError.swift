import Testing

/// Runs `body`, expecting it to throw an `E`; returns the error (nil, with a recorded issue,
/// when it succeeded or threw something else).
public func expectError<E: Error>(
    _ type: E.Type, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) -> E? {
    do {
        try body()
        Issue.record("expected a \(E.self), but it succeeded", sourceLocation: sourceLocation)
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected a \(E.self), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
