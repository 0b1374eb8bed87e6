import Foundation

/// A model's shape and a copy of its flat parameters (in `ParameterLayout` order): what a
/// generator is built from. A value, so it can be taken on the training thread at a step boundary
/// and handed to another thread.
public struct ModelWeights: Sendable, Equatable {
    public var config: GPTConfig
    public var parameters: [Float]

    public init(config: GPTConfig, parameters: [Float]) {
        self.config = config
        self.parameters = parameters
    }

    /// Copies the model's current parameters (call between optimizer steps).
    public init(copying model: GPT) {
        self.init(config: model.config, parameters: model.params.array)
    }
}
