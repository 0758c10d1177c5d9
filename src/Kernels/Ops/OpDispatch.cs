namespace Engine.Kernels;

// The one place that maps the op enums to their struct ops and says which dtypes each takes.
// A backend supplies a runner (a struct holding its dtype and buffers) that knows how to run
// one struct op on its device; OpDispatch picks the op. The cost is a rough per-element price
// relative to an add, which the CPU uses to decide when to split a walk over threads.

/// <summary>Runs one unary struct op on a backend's buffers.</summary>
internal interface IUnaryRunner
{
    /// <summary>An op defined for float and double.</summary>
    void Float<TOp>(long cost) where TOp : IUnaryOp, IUnarySpanOp;

    /// <summary>An op defined for int32 and int64 as well.</summary>
    void Numeric<TOp>() where TOp : IUnaryOp, IUnarySpanOp, IIntegerUnaryOp;
}

/// <summary>Runs one binary struct op on a backend's buffers.</summary>
internal interface IBinaryRunner
{
    /// <summary>An op defined for float and double.</summary>
    void Float<TOp>(long cost) where TOp : IBinaryOp, IBinarySpanOp;

    /// <summary>An op defined for int32 and int64 as well.</summary>
    void Numeric<TOp>() where TOp : IBinaryOp, IBinarySpanOp, IIntegerBinaryOp;
}

/// <summary>Runs one comparison struct op on a backend's buffers (every dtype).</summary>
internal interface ICompareRunner
{
    /// <summary>Runs <typeparamref name="TOp"/>.</summary>
    void Run<TOp>() where TOp : ICompareOp;
}

/// <summary>The op enums' struct ops, for every backend.</summary>
internal static class OpDispatch
{
    public static void Unary<TRunner>(UnaryOp op, TRunner run) where TRunner : struct, IUnaryRunner
    {
        switch (op)
        {
            case UnaryOp.Neg: run.Numeric<NegOp>(); break;
            case UnaryOp.Exp: run.Float<ExpOp>(8); break;
            case UnaryOp.Log: run.Float<LogOp>(8); break;
            case UnaryOp.Sqrt: run.Float<SqrtOp>(1); break;
            case UnaryOp.Abs: run.Numeric<AbsOp>(); break;
            case UnaryOp.Sign: run.Numeric<SignOp>(); break;
            case UnaryOp.Tanh: run.Float<TanhOp>(8); break;
            case UnaryOp.Sigmoid: run.Float<SigmoidOp>(8); break;
            case UnaryOp.Relu: run.Float<ReluOp>(1); break;
            case UnaryOp.Erf: run.Float<ErfOp>(32); break;
            case UnaryOp.Reciprocal: run.Float<ReciprocalOp>(1); break;
            case UnaryOp.Square: run.Numeric<SquareOp>(); break;
            case UnaryOp.Sin: run.Float<SinOp>(8); break;
            case UnaryOp.Cos: run.Float<CosOp>(8); break;
            case UnaryOp.Floor: run.Float<FloorOp>(1); break;
            case UnaryOp.Ceil: run.Float<CeilOp>(1); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    public static void Binary<TRunner>(BinaryOp op, TRunner run) where TRunner : struct, IBinaryRunner
    {
        switch (op)
        {
            case BinaryOp.Add: run.Numeric<AddOp>(); break;
            case BinaryOp.Sub: run.Numeric<SubOp>(); break;
            case BinaryOp.Mul: run.Numeric<MulOp>(); break;
            case BinaryOp.Div: run.Float<DivOp>(1); break;
            case BinaryOp.Pow: run.Float<PowOp>(16); break;
            case BinaryOp.Max: run.Numeric<MaxOp>(); break;
            case BinaryOp.Min: run.Numeric<MinOp>(); break;
            case BinaryOp.ReluGrad: run.Float<ReluGradOp>(1); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    public static void Compare<TRunner>(CompareOp op, TRunner run) where TRunner : struct, ICompareRunner
    {
        switch (op)
        {
            case CompareOp.Eq: run.Run<EqOp>(); break;
            case CompareOp.Ne: run.Run<NeOp>(); break;
            case CompareOp.Lt: run.Run<LtOp>(); break;
            case CompareOp.Le: run.Run<LeOp>(); break;
            case CompareOp.Gt: run.Run<GtOp>(); break;
            case CompareOp.Ge: run.Run<GeOp>(); break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }
}
