namespace Engine.Tests;

/// <summary>
/// A dense float64 array with a shape: the reference side of every comparison. Everything here is
/// a plain loop, written for obviousness, not speed, and shares no code with the engine's kernels.
/// </summary>
public sealed class RefArray
{
    public RefArray(int[] shape, double[] data)
    {
        Shape = shape;
        Data = data;
        if (Numel(shape) != data.Length) throw new ArgumentException("shape and data disagree");
    }

    public int[] Shape { get; }
    public double[] Data { get; }
    public int Rank => Shape.Length;

    public static long Numel(int[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    public static RefArray Zeros(params int[] shape) => new(shape, new double[Numel(shape)]);

    /// <summary>The values of a tensor of any dtype, converted to float64.</summary>
    public static RefArray Of(Tensor t)
    {
        using var d = t.To(DType.Float64);
        return new RefArray(t.Shape.ToArray(), d.ToArray<double>());
    }

    /// <summary>The row-major multi-index of flat position <paramref name="flat"/>.</summary>
    public static int[] Unravel(long flat, int[] shape)
    {
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            idx[d] = (int)(flat % shape[d]);
            flat /= shape[d];
        }
        return idx;
    }

    /// <summary>The element at <paramref name="idx"/>, which may have a higher rank (NumPy broadcasting: trailing alignment, size-1 dims repeat).</summary>
    public double At(int[] idx)
    {
        long flat = 0;
        int lead = idx.Length - Rank;
        for (int d = 0; d < Rank; d++)
            flat = flat * Shape[d] + (Shape[d] == 1 ? 0 : idx[lead + d]);
        return Data[flat];
    }

    public double this[params int[] idx] => At(idx);

    public static int[] Broadcast(params int[][] shapes)
    {
        int rank = shapes.Max(s => s.Length);
        var r = new int[rank];
        for (int i = 1; i <= rank; i++)
        {
            int size = 1;
            foreach (var s in shapes)
            {
                int d = i <= s.Length ? s[^i] : 1;
                if (d != 1)
                {
                    if (size != 1 && size != d) throw new ArgumentException("not broadcastable");
                    size = d;
                }
            }
            r[^i] = size;
        }
        return r;
    }

    public RefArray Map(Func<double, double> f) => new(Shape, Data.Select(f).ToArray());

    public static RefArray Zip(RefArray a, RefArray b, Func<double, double, double> f)
    {
        var shape = Broadcast(a.Shape, b.Shape);
        var data = new double[Numel(shape)];
        for (long i = 0; i < data.Length; i++)
        {
            var idx = Unravel(i, shape);
            data[i] = f(a.At(idx), b.At(idx));
        }
        return new RefArray(shape, data);
    }

    /// <summary>Reduces along the given axes with the given fold (keepdim shape).</summary>
    public RefArray Reduce(int[] axes, Func<IEnumerable<double>, double> fold)
    {
        var outShape = Shape.Select((n, d) => axes.Contains(d) ? 1 : n).ToArray();
        var groups = new List<double>[Numel(outShape)];
        for (int i = 0; i < groups.Length; i++) groups[i] = [];
        for (long i = 0; i < Data.Length; i++)
        {
            var idx = Unravel(i, Shape);
            long o = 0;
            for (int d = 0; d < Rank; d++) o = o * outShape[d] + (axes.Contains(d) ? 0 : idx[d]);
            groups[o].Add(Data[i]);
        }
        return new RefArray(outShape, groups.Select(g => fold(g)).ToArray());
    }
}

/// <summary>Reference math written independently of the engine.</summary>
public static class RefMath
{
    /// <summary>erf by composite Simpson integration of 2/√π e^(-t²) (independent of the engine's series).</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (Math.Abs(x) > 8) return Math.Sign(x);
        const int n = 4000;
        double h = x / n, s = 1 + Math.Exp(-x * x);
        for (int i = 1; i < n; i++)
        {
            double t = i * h;
            s += (i % 2 == 1 ? 4 : 2) * Math.Exp(-t * t);
        }
        return 2 / Math.Sqrt(Math.PI) * s * h / 3;
    }

    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}

/// <summary>Assertions that compare tensors with references, element by element, reporting the first mismatch.</summary>
public static class Check
{
    public static (double Rtol, double Atol) Tolerance(DType t) =>
        t == DType.Float32 ? (1e-5, 1e-6) : (1e-12, 1e-13);

    public static bool Close(double actual, double expected, double rtol, double atol)
    {
        if (double.IsNaN(expected)) return double.IsNaN(actual);
        if (double.IsInfinity(expected)) return actual == expected;
        return Math.Abs(actual - expected) <= atol + rtol * Math.Abs(expected);
    }

    public static void Equal(RefArray expected, Tensor actual, double rtol, double atol, string what = "")
    {
        Assert.Equal(expected.Shape, actual.Shape.ToArray());
        var got = RefArray.Of(actual).Data;
        for (int i = 0; i < got.Length; i++)
            if (!Close(got[i], expected.Data[i], rtol, atol))
                Assert.Fail($"{what} element {i} at [{string.Join(", ", RefArray.Unravel(i, expected.Shape))}] of {Errors.Shape(expected.Shape)}: expected {expected.Data[i]:R}, got {got[i]:R}");
    }

    public static void Equal(RefArray expected, Tensor actual, string what = "")
    {
        var (r, a) = Tolerance(actual.DType);
        Equal(expected, actual, r, a, what);
    }
}

/// <summary>Random test inputs from a seeded System.Random (not the engine's generator).</summary>
public static class Data
{
    public static Tensor Uniform(Random rng, int[] shape, double lo, double hi, DType dtype = DType.Float64)
    {
        var v = new double[RefArray.Numel(shape)];
        for (int i = 0; i < v.Length; i++) v[i] = lo + (hi - lo) * rng.NextDouble();
        return Make(v, shape, dtype);
    }

    public static Tensor Ints(Random rng, int[] shape, int lo, int hi, DType dtype)
    {
        var v = new double[RefArray.Numel(shape)];
        for (int i = 0; i < v.Length; i++) v[i] = rng.Next(lo, hi);
        return Make(v, shape, dtype);
    }

    /// <summary>FromArray takes a one-element array as shape [1]; rank 0 needs the reshape.</summary>
    private static Tensor Make(double[] v, int[] shape, DType dtype)
    {
        using var flat = Tensor.FromArray(v);
        using var t = flat.Reshape(shape);
        return t.To(dtype);
    }

    /// <summary>A tensor of the given shape whose memory is not contiguous (permuted, strided or expanded), holding uniform values.</summary>
    public static Tensor NonContiguous(Random rng, int[] shape, double lo, double hi, DType dtype, int kind)
    {
        switch (kind % 3)
        {
            case 0 when shape.Length >= 2:
            {
                // allocate transposed, view back: strides are column-major-ish
                int[] perm = [.. Enumerable.Range(0, shape.Length).Reverse()];
                using var t = Uniform(rng, [.. perm.Select(p => shape[p])], lo, hi, dtype);
                return t.Permute(perm);
            }
            case 1 when shape.Length >= 1:
            {
                // every other element along the last dim
                int[] big = [.. shape[..^1], shape[^1] * 2];
                using var t = Uniform(rng, big, lo, hi, dtype);
                return t.Slice(-1, 0, big[^1], 2);
            }
            default:
            {
                // stride-0 expansion of the first dim
                if (shape.Length == 0) return Uniform(rng, shape, lo, hi, dtype);
                int[] small = [1, .. shape[1..]];
                using var t = Uniform(rng, small, lo, hi, dtype);
                return t.Expand(shape);
            }
        }
    }
}
