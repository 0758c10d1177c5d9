using System.Numerics;
using ILGPU;

namespace Engine.Kernels.Gpu;

/// <summary>
/// The elementwise kernels: one thread per destination element, each operand reached through its
/// own strides (stride 0 along broadcast dims), so broadcasting and views cost nothing extra.
/// </summary>
internal static class ElementwiseKernels
{
    /// <summary>y = v</summary>
    public static void Fill<T>(Index1D i, ArrayView<T> y, Strides6 sy, Shape6 n, T v) where T : unmanaged =>
        y[Strided.At(i, n, sy)] = v;

    /// <summary>y = (TY) x, through double for floating sources and long for integer ones.</summary>
    public static void Cast<TA, CA, TY, CY>(Index1D i, ArrayView<TA> x, Strides6 sx, ArrayView<TY> y, Strides6 sy, Shape6 n)
        where TA : unmanaged where TY : unmanaged where CA : struct, IElem<TA> where CY : struct, IElem<TY>
    {
        TA v = x[Strided.At(i, n, sx)];
        y[Strided.At(i, n, sy)] = CA.IsFloat() ? CY.FromDouble(CA.ToDouble(v)) : CY.FromLong(CA.ToLong(v));
    }

    /// <summary>y = x, bit for bit.</summary>
    public static void Copy<T>(Index1D i, ArrayView<T> x, Strides6 sx, ArrayView<T> y, Strides6 sy, Shape6 n) where T : unmanaged =>
        y[Strided.At(i, n, sy)] = x[Strided.At(i, n, sx)];

    /// <summary>y = f(x)</summary>
    public static void Unary<T, F>(Index1D i, ArrayView<T> x, Strides6 sx, ArrayView<T> y, Strides6 sy, Shape6 n)
        where T : unmanaged where F : struct, IUnaryOp<T> =>
        y[Strided.At(i, n, sy)] = F.Apply(x[Strided.At(i, n, sx)]);

    /// <summary>y = f(a, b)</summary>
    public static void Binary<T, F>(Index1D i, ArrayView<T> a, Strides6 sa, ArrayView<T> b, Strides6 sb, ArrayView<T> y, Strides6 sy, Shape6 n)
        where T : unmanaged where F : struct, IBinaryOp<T> =>
        y[Strided.At(i, n, sy)] = F.Apply(a[Strided.At(i, n, sa)], b[Strided.At(i, n, sb)]);

    /// <summary>y = a op b as 0/1 bytes</summary>
    public static void Compare<T, F>(Index1D i, ArrayView<T> a, Strides6 sa, ArrayView<T> b, Strides6 sb, ArrayView<byte> y, Strides6 sy, Shape6 n)
        where T : unmanaged where F : struct, ICompareOp<T> =>
        y[Strided.At(i, n, sy)] = F.Apply(a[Strided.At(i, n, sa)], b[Strided.At(i, n, sb)]) ? (byte)1 : (byte)0;

    /// <summary>y = c ? a : b (T is any type of the element's width: the values are moved, not read).</summary>
    public static void Where<T>(Index1D i, ArrayView<byte> c, Strides6 sc, ArrayView<T> a, Strides6 sa, ArrayView<T> b, Strides6 sb,
        ArrayView<T> y, Strides6 sy, Shape6 n) where T : unmanaged
    {
        long at = Strided.At(i, n, sy);
        y[at] = c[Strided.At(i, n, sc)] != 0 ? a[Strided.At(i, n, sa)] : b[Strided.At(i, n, sb)];
    }

    /// <summary>y = α·x + β·y in place.</summary>
    public static void Axpby<T>(Index1D i, ArrayView<T> x, Strides6 sx, ArrayView<T> y, Strides6 sy, Shape6 n, T alpha, T beta)
        where T : unmanaged, INumber<T>
    {
        long at = Strided.At(i, n, sy);
        y[at] = alpha * x[Strided.At(i, n, sx)] + beta * y[at];
    }

    /// <summary>Element i of the counter-based stream: the same Philox block as the CPU backend.</summary>
    public static void Random<T, C>(Index1D i, ArrayView<T> y, RandomParams p) where T : unmanaged where C : struct, IElem<T>
    {
        long offset = p.Offset;
        int dist = p.Distribution, single = p.Single;
        ulong seed = p.Seed, counter = p.Start + (ulong)(int)i, range = p.Range;
        double a = p.A, b = p.B, upperD = p.B;
        float upperF = (float)p.B;
        long low = p.Low;
        PhiloxBlock(seed, counter, out uint w0, out uint w1, out uint w2, out uint w3);
        T v;
        if (dist == 0)
        {
            if (single != 0)
            {
                float f = (float)(a + (b - a) * Philox.UniformFloat(w0));
                if (f >= upperF) f = BelowF(upperF);
                v = C.FromDouble(f);
            }
            else
            {
                double d = a + (b - a) * Philox.UniformDouble(w0, w1);
                if (d >= upperD) d = BelowD(upperD);
                v = C.FromDouble(d);
            }
        }
        else if (dist == 1)
            v = C.FromDouble(a + b * Philox.Normal(w0, w1, w2, w3));
        else
            v = C.FromLong(low + (long)((((ulong)w0 << 32) | w1) % range));
        y[offset + i] = v;
    }

    // the largest float below x (x finite and positive or negative, not zero): BitDecrement without its special cases
    private static float BelowF(float x) => Interop.IntAsFloat(x > 0 ? Interop.FloatAsInt(x) - 1 : Interop.FloatAsInt(x) + 1);
    private static double BelowD(double x) => Interop.IntAsFloat(x > 0 ? Interop.FloatAsInt(x) - 1 : Interop.FloatAsInt(x) + 1);

    private static void PhiloxBlock(ulong seed, ulong counter, out uint w0, out uint w1, out uint w2, out uint w3)
    {
        var (a, b, c, d) = Philox.Block(seed, counter);
        w0 = a; w1 = b; w2 = c; w3 = d;
    }
}

/// <summary>
/// The scalars of one <see cref="ElementwiseKernels.Random{T, C}"/> launch: element i of y (from <see cref="Offset"/>) is
/// draw <see cref="Start"/> + i of the Philox stream <see cref="Seed"/>; <see cref="Distribution"/> 0 is uniform on [A, B)
/// (rounded in float when <see cref="Single"/> is 1), 1 normal with mean A and deviation B, 2 integers in
/// [<see cref="Low"/>, Low + <see cref="Range"/>).
/// </summary>
internal struct RandomParams
{
    /// <summary>Where element 0 of y lies in its buffer.</summary>
    public long Offset;
    /// <summary>The Philox key.</summary>
    public ulong Seed;
    /// <summary>The counter of element 0.</summary>
    public ulong Start;
    /// <summary>Uniform: the lower bound; normal: the mean.</summary>
    public double A;
    /// <summary>Uniform: the upper bound (excluded); normal: the standard deviation.</summary>
    public double B;
    /// <summary>Integers: the lowest value.</summary>
    public long Low;
    /// <summary>Integers: how many values.</summary>
    public ulong Range;
    /// <summary>0 uniform, 1 normal, 2 integers.</summary>
    public int Distribution;
    /// <summary>1 where uniform draws round in float.</summary>
    public int Single;
}
