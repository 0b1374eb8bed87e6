import Foundation

/// Turning the user's prompt text into the tokens generation starts from.
public enum GenerationPrompt {
    /// The prompt's tokens. An empty prompt starts from a newline when the vocabulary has one (as
    /// nanoGPT's sample.py does by default), else from token 0.
    public static func tokens(for text: String, tokenizer: any Tokenizer) throws(GenerationError) -> [Int32] {
        let ids: [Int32]
        do {
            ids = try tokenizer.encode(text.isEmpty ? "\n" : text)
        } catch let error as TokenizerError {
            if text.isEmpty { return [0] }
            if case .unknownCharacters(let chars) = error {
                let shown = chars.prefix(5).map { String(reflecting: String($0)) }.joined(separator: ", ")
                throw GenerationError("the prompt contains characters the model has never seen: \(shown)\(chars.count > 5 ? ", …" : "") — use only characters of its training text")
            }
            throw GenerationError("cannot encode the prompt: \(error)")
        } catch {
            throw GenerationError("cannot encode the prompt: \(error)")
        }
        if ids.isEmpty { return [0] }
        return ids
    }
}


/// A problem with a generation request, phrased for the user.
public struct GenerationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
