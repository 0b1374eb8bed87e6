/// Forward/backward kernels over flat Float buffers (filled in by the engine work).
public enum KernelsInfo {}
