using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Engine.Kernels;

/// <summary>
/// The CPU backend: our own kernels over 64-byte-aligned host memory, SIMD (TensorPrimitives for
/// contiguous spans, Vector256/Vector512 intrinsics in the matrix and reduction kernels) and
/// split across cores by <see cref="WorkerPool"/>. Float32 and Float64 everywhere; Int32, Int64 and
/// Bool where <see cref="OpSupport"/> says so.
/// </summary>
public sealed unsafe partial class CpuBackend : IBackend
{
    /// <summary>The one instance.</summary>
    public static CpuBackend Instance { get; } = new();

    private CpuBackend() { }

    /// <inheritdoc/>
    public string Name => "cpu";

    /// <summary>
    /// How many threads the kernels use (default: the number of cores, or ENGINE_NUM_THREADS). Setting it changes
    /// the whole process; <see cref="UseThreads"/> changes it for one thread in a scope. Results do not depend on it.
    /// </summary>
    public static int Threads
    {
        get => WorkerPool.Threads;
        set => WorkerPool.Threads = value;
    }

    /// <summary>
    /// Until the returned scope is disposed (on this thread), kernels started by this thread use at most
    /// <paramref name="threads"/> threads; other threads keep theirs.
    /// </summary>
    public static IDisposable UseThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        return KernelChoices.With(c => c with { Threads = threads });
    }

    /// <inheritdoc/>
    public DeviceBuffer Allocate(long bytes) => new NativeBuffer(bytes);

    /// <inheritdoc/>
    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long offset) where T : unmanaged =>
        source.CopyTo(((NativeBuffer)destination).AsSpan<T>(offset, source.Length));

    /// <inheritdoc/>
    public void Download<T>(DeviceBuffer source, long offset, Span<T> destination) where T : unmanaged =>
        ((NativeBuffer)source).AsSpan<T>(offset, destination.Length).CopyTo(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T* Ptr<T>(in BufferView v) where T : unmanaged =>
        (T*)((NativeBuffer)v.Buffer).Pointer + v.Layout.Offset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static nint Addr<T>(in BufferView v) where T : unmanaged => (nint)Ptr<T>(v);

    internal static Exception Unsupported(string op, DType t) =>
        Errors.DTypeError(op, $"dtype {t.Name()} is not supported by the cpu backend");

    // ---- elementwise drivers -------------------------------------------------------------

    internal static void Map<TK, TA, TY>(in BufferView a, in BufferView y, long cost = 1)
        where TK : IRow2<TA, TY> where TA : unmanaged where TY : unmanaged
    {
        nint pa = Addr<TA>(a), py = Addr<TY>(y);
        new StridedLoop(y.Shape, a.Layout.Strides, y.Layout.Strides).Run((o, s, n) =>
            TK.Row((TA*)pa + o[0], s[0], (TY*)py + o[1], s[1], n), cost);
    }

    internal static void Map<TK, TA, TB, TY>(in BufferView a, in BufferView b, in BufferView y, long cost = 1)
        where TK : IRow3<TA, TB, TY> where TA : unmanaged where TB : unmanaged where TY : unmanaged
    {
        nint pa = Addr<TA>(a), pb = Addr<TB>(b), py = Addr<TY>(y);
        new StridedLoop(y.Shape, a.Layout.Strides, b.Layout.Strides, y.Layout.Strides).Run((o, s, n) =>
            TK.Row((TA*)pa + o[0], s[0], (TB*)pb + o[1], s[1], (TY*)py + o[2], s[2], n), cost);
    }

    // ---- fill, copy, cast ---------------------------------------------------------------

    /// <inheritdoc/>
    public void Fill(DType dtype, double value, in BufferView y)
    {
        switch (dtype)
        {
            case DType.Float32: FillT(y, (float)value); break;
            case DType.Float64: FillT(y, value); break;
            case DType.Int32: FillT(y, (int)value); break;
            case DType.Int64: FillT(y, (long)value); break;
            case DType.Bool: FillT(y, (byte)(value != 0 ? 1 : 0)); break;
            default: throw Unsupported("Fill", dtype);
        }
    }

    private static void FillT<T>(in BufferView y, T value) where T : unmanaged
    {
        nint py = Addr<T>(y);
        new StridedLoop(y.Shape, y.Layout.Strides).Run((o, s, n) =>
        {
            T* p = (T*)py + o[0];
            if (s[0] == 1) new Span<T>(p, checked((int)n)).Fill(value);
            else for (long i = 0; i < n; i++) p[i * s[0]] = value;
        });
    }

    /// <inheritdoc/>
    public void Copy(DType xType, in BufferView x, DType yType, in BufferView y)
    {
        switch (xType)
        {
            case DType.Float32: CopyFrom<float>(yType, x, y); break;
            case DType.Float64: CopyFrom<double>(yType, x, y); break;
            case DType.Int32: CopyFrom<int>(yType, x, y); break;
            case DType.Int64: CopyFrom<long>(yType, x, y); break;
            case DType.Bool: CopyFrom<byte>(yType, x, y); break;
            default: throw Unsupported("Copy", xType);
        }
    }

    private static void CopyFrom<TA>(DType yType, in BufferView x, in BufferView y) where TA : unmanaged
    {
        switch (yType)
        {
            case DType.Float32: Map<CastRow<TA, float>, TA, float>(x, y); break;
            case DType.Float64: Map<CastRow<TA, double>, TA, double>(x, y); break;
            case DType.Int32: Map<CastRow<TA, int>, TA, int>(x, y); break;
            case DType.Int64: Map<CastRow<TA, long>, TA, long>(x, y); break;
            case DType.Bool: Map<CastRow<TA, byte>, TA, byte>(x, y); break;
            default: throw Unsupported("Copy", yType);
        }
    }

    // ---- unary, binary, compare, where ---------------------------------------------------

    /// <inheritdoc/>
    public void Unary(UnaryOp op, DType dtype, in BufferView x, in BufferView y) => OpDispatch.Unary(op, new UnaryRunner(dtype, x, y));

    private readonly struct UnaryRunner(DType t, BufferView x, BufferView y) : IUnaryRunner
    {
        public void Float<TOp>(long cost) where TOp : IUnaryOp, IUnarySpanOp => UnaryFloat<TOp>(t, x, y, cost);
        public void Numeric<TOp>() where TOp : IUnaryOp, IUnarySpanOp, IIntegerUnaryOp => UnaryNumeric<TOp>(t, x, y);
    }

    private static void UnaryFloat<TOp>(DType t, in BufferView x, in BufferView y, long cost = 1)
        where TOp : IUnaryOp, IUnarySpanOp
    {
        if (t == DType.Float32) Map<UnaryRow<TOp, float>, float, float>(x, y, cost);
        else if (t == DType.Float64) Map<UnaryRow<TOp, double>, double, double>(x, y, cost);
        else throw Unsupported(typeof(TOp).Name[..^2], t);
    }

    private static void UnaryNumeric<TOp>(DType t, in BufferView x, in BufferView y)
        where TOp : IUnaryOp, IUnarySpanOp, IIntegerUnaryOp
    {
        if (t == DType.Int32) Map<IntUnaryRow<TOp, int>, int, int>(x, y);
        else if (t == DType.Int64) Map<IntUnaryRow<TOp, long>, long, long>(x, y);
        else UnaryFloat<TOp>(t, x, y);
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, DType dtype, in BufferView a, in BufferView b, in BufferView y) => OpDispatch.Binary(op, new BinaryRunner(dtype, a, b, y));

    private readonly struct BinaryRunner(DType t, BufferView a, BufferView b, BufferView y) : IBinaryRunner
    {
        public void Float<TOp>(long cost) where TOp : IBinaryOp, IBinarySpanOp => BinaryFloat<TOp>(t, a, b, y, cost);
        public void Numeric<TOp>() where TOp : IBinaryOp, IBinarySpanOp, IIntegerBinaryOp => BinaryNumeric<TOp>(t, a, b, y);
    }

    private static void BinaryFloat<TOp>(DType t, in BufferView a, in BufferView b, in BufferView y, long cost = 1)
        where TOp : IBinaryOp, IBinarySpanOp
    {
        if (t == DType.Float32) Map<BinaryRow<TOp, float>, float, float, float>(a, b, y, cost);
        else if (t == DType.Float64) Map<BinaryRow<TOp, double>, double, double, double>(a, b, y, cost);
        else throw Unsupported(typeof(TOp).Name[..^2], t);
    }

    private static void BinaryNumeric<TOp>(DType t, in BufferView a, in BufferView b, in BufferView y)
        where TOp : IBinaryOp, IBinarySpanOp, IIntegerBinaryOp
    {
        if (t == DType.Int32) Map<IntBinaryRow<TOp, int>, int, int, int>(a, b, y);
        else if (t == DType.Int64) Map<IntBinaryRow<TOp, long>, long, long, long>(a, b, y);
        else BinaryFloat<TOp>(t, a, b, y);
    }

    /// <inheritdoc/>
    public void Axpby(DType dtype, double alpha, in BufferView x, double beta, in BufferView y)
    {
        if (dtype == DType.Float32) AxpbyRows((float)alpha, x, (float)beta, y);
        else if (dtype == DType.Float64) AxpbyRows(alpha, x, beta, y);
        else throw Unsupported("Axpby", dtype);
    }

    private static void AxpbyRows<T>(T alpha, in BufferView x, T beta, in BufferView y) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        nint px = Addr<T>(x), py = Addr<T>(y);
        new StridedLoop(y.Shape, x.Layout.Strides, y.Layout.Strides).Run((o, s, n) =>
        {
            T* xp = (T*)px + o[0], yp = (T*)py + o[1];
            long sx = s[0], sy = s[1], i = 0;
            if (sx == 1 && sy == 1 && Vector256.IsHardwareAccelerated)
            {
                var va = Vector256.Create(alpha);
                var vb = Vector256.Create(beta);
                for (int w = Vector256<T>.Count; i + w <= n; i += w)
                    Simd.Fma(va, Vector256.Load(xp + i), vb * Vector256.Load(yp + i)).Store(yp + i);
            }
            for (; i < n; i++) yp[i * sy] = T.FusedMultiplyAdd(alpha, xp[i * sx], beta * yp[i * sy]);
        });
    }

    /// <inheritdoc/>
    public void Compare(CompareOp op, DType dtype, in BufferView a, in BufferView b, in BufferView y) => OpDispatch.Compare(op, new CompareRunner(dtype, a, b, y));

    private readonly struct CompareRunner(DType t, BufferView a, BufferView b, BufferView y) : ICompareRunner
    {
        public void Run<TOp>() where TOp : ICompareOp => CompareT<TOp>(t, a, b, y);
    }

    private static void CompareT<TOp>(DType t, in BufferView a, in BufferView b, in BufferView y) where TOp : ICompareOp
    {
        switch (t)
        {
            case DType.Float32: Map<CompareRow<TOp, float>, float, float, byte>(a, b, y); break;
            case DType.Float64: Map<CompareRow<TOp, double>, double, double, byte>(a, b, y); break;
            case DType.Int32: Map<CompareRow<TOp, int>, int, int, byte>(a, b, y); break;
            case DType.Int64: Map<CompareRow<TOp, long>, long, long, byte>(a, b, y); break;
            case DType.Bool: Map<CompareRow<TOp, byte>, byte, byte, byte>(a, b, y); break;
            default: throw Unsupported("Compare", t);
        }
    }

    /// <inheritdoc/>
    public void Where(DType dtype, in BufferView condition, in BufferView a, in BufferView b, in BufferView y)
    {
        switch (dtype.SizeOf())
        {
            case 1: WhereT<byte>(condition, a, b, y); break;
            case 4: WhereT<int>(condition, a, b, y); break;
            case 8: WhereT<long>(condition, a, b, y); break;
            default: throw Unsupported("Where", dtype);
        }
    }

    private static void WhereT<T>(in BufferView c, in BufferView a, in BufferView b, in BufferView y) where T : unmanaged
    {
        nint pc = Addr<byte>(c), pa = Addr<T>(a), pb = Addr<T>(b), py = Addr<T>(y);
        new StridedLoop(y.Shape, c.Layout.Strides, a.Layout.Strides, b.Layout.Strides, y.Layout.Strides).Run((o, s, n) =>
        {
            byte* cp = (byte*)pc + o[0];
            T* ap = (T*)pa + o[1], bp = (T*)pb + o[2], yp = (T*)py + o[3];
            for (long i = 0; i < n; i++)
                yp[i * s[3]] = cp[i * s[0]] != 0 ? ap[i * s[1]] : bp[i * s[2]];
        });
    }
}
