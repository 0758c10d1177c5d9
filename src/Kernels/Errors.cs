namespace Engine;

/// <summary>Base class of every error the engine raises for bad input.</summary>
public class EngineException : ArgumentException
{
    /// <summary>Creates the exception with its full message.</summary>
    public EngineException(string message) : base(message) { }
}

/// <summary>Shapes that break an op's rule (mismatched sizes, wrong rank, an axis out of range).</summary>
public sealed class ShapeException : EngineException
{
    /// <summary>Creates the exception with its full message.</summary>
    public ShapeException(string message) : base(message) { }
}

/// <summary>A dtype an op does not take, or operands whose dtypes differ.</summary>
public sealed class DTypeException : EngineException
{
    /// <summary>Creates the exception with its full message.</summary>
    public DTypeException(string message) : base(message) { }
}

/// <summary>Operands on different devices, or a device that is not present.</summary>
public sealed class DeviceException : EngineException
{
    /// <summary>Creates the exception with its full message.</summary>
    public DeviceException(string message) : base(message) { }
}

/// <summary>An index or value outside its valid range (a gather index, a scalar for an integer tensor).</summary>
public sealed class IndexRangeException : EngineException
{
    /// <summary>Creates the exception with its full message.</summary>
    public IndexRangeException(string message) : base(message) { }
}

/// <summary>Use of a tensor after it was disposed.</summary>
public sealed class DisposedTensorException : ObjectDisposedException
{
    /// <summary>Creates the exception naming the op that found the disposed tensor.</summary>
    public DisposedTensorException(string op) : base("Tensor", $"{op}: the tensor was disposed") { }
}

/// <summary>
/// The one place that formats error messages, so every backend and every op reports
/// problems the same way: the op, the operands' shapes, and the rule that was broken,
/// e.g. <c>MatMul: [64, 784] x [128, 10]: inner sizes 784 and 128 differ</c>.
/// </summary>
public static class Errors
{
    /// <summary>Formats a shape as <c>[2, 3]</c> (rank 0 is <c>[]</c>).</summary>
    public static string Shape(ReadOnlySpan<int> shape)
    {
        var sb = new System.Text.StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i]);
        }
        return sb.Append(']').ToString();
    }

    /// <summary>A shape error for one operand: <c>op: [shape]: rule</c>.</summary>
    public static ShapeException ShapeError(string op, ReadOnlySpan<int> shape, string rule) =>
        new($"{op}: {Shape(shape)}: {rule}");

    /// <summary>A shape error for two operands: <c>op: [a] x [b]: rule</c>.</summary>
    public static ShapeException ShapeError(string op, ReadOnlySpan<int> a, ReadOnlySpan<int> b, string rule) =>
        new($"{op}: {Shape(a)} x {Shape(b)}: {rule}");

    /// <summary>A shape error for three operands: <c>op: [a] x [b] x [c]: rule</c>.</summary>
    public static ShapeException ShapeError(string op, ReadOnlySpan<int> a, ReadOnlySpan<int> b, ReadOnlySpan<int> c, string rule) =>
        new($"{op}: {Shape(a)} x {Shape(b)} x {Shape(c)}: {rule}");

    /// <summary>A dtype error: <c>op: dtype float32 ...: rule</c>.</summary>
    public static DTypeException DTypeError(string op, string rule) => new($"{op}: {rule}");

    /// <summary>An index error: <c>op: [shape]: rule</c>.</summary>
    public static IndexRangeException IndexError(string op, ReadOnlySpan<int> shape, string rule) =>
        new($"{op}: {Shape(shape)}: {rule}");
}
