using System.Globalization;
using System.Text;

namespace Engine;

public sealed partial class Tensor
{
    private const int SummarizeAbove = 1000, EdgeItems = 3;

    /// <summary>
    /// The values the way PyTorch prints them, then the shape, dtype and device:
    /// <c>tensor([[ 1.5000, -2.0000], [ 0.2500,  4.0000]], shape=[2, 2], dtype=float32, device=cpu)</c>,
    /// with a row per line and, above 1000 elements, only the first and last three entries of each dim.
    /// </summary>
    public override string ToString()
    {
        if (_disposed) return "tensor(<disposed>)";
        bool summarize = Numel > SummarizeAbove;
        double[] values = ReadForPrint();
        var fmt = NumberFormat.For(DType, Visible(values, summarize));
        var sb = new StringBuilder("tensor(");
        if (Rank == 0) sb.Append(fmt.Format(values[0]));
        else AppendDim(sb, values, 0, 0, fmt, summarize);
        sb.Append(", shape=").Append(Errors.Shape(_shape));
        sb.Append(", dtype=").Append(DType.Name()).Append(", device=").Append(Device).Append(')');
        return sb.ToString();
    }

    private double[] ReadForPrint()
    {
        using var d = To(DType.Float64);
        return d.ToArray<double>();
    }

    /// <summary>The values that will be printed (for choosing one format for all of them).</summary>
    private IEnumerable<double> Visible(double[] values, bool summarize)
    {
        if (!summarize) return values;
        var strides = Kernels.Layout.ContiguousStrides(_shape);
        return values.Where((_, flat) =>
        {
            for (int d = 0; d < Rank; d++)
            {
                long i = flat / strides[d] % _shape[d];
                if (i >= EdgeItems && i < _shape[d] - EdgeItems) return false;
            }
            return true;
        });
    }

    private void AppendDim(StringBuilder sb, double[] values, int dim, long offset, NumberFormat fmt, bool summarize)
    {
        long stride = Kernels.Layout.ContiguousStrides(_shape)[dim];
        int n = _shape[dim];
        IEnumerable<int> items = summarize && n > 2 * EdgeItems
            ? [.. Enumerable.Range(0, EdgeItems), -1, .. Enumerable.Range(n - EdgeItems, EdgeItems)]
            : Enumerable.Range(0, n);
        sb.Append('[');
        bool first = true;
        foreach (int i in items)
        {
            if (!first)
            {
                if (dim == Rank - 1) sb.Append(", ");
                else sb.Append(',').Append('\n', Rank - dim - 1).Append(' ', "tensor(".Length + dim + 1);
            }
            first = false;
            if (i < 0) sb.Append("...");
            else if (dim == Rank - 1) sb.Append(fmt.Format(values[offset + i * stride]));
            else AppendDim(sb, values, dim + 1, offset + i * stride, fmt, summarize);
        }
        sb.Append(']');
    }

    /// <summary>One number format for every element, chosen the way PyTorch chooses it.</summary>
    private sealed class NumberFormat
    {
        private readonly Func<double, string> _format;
        private readonly int _width;

        private NumberFormat(Func<double, string> format, IEnumerable<double> values)
        {
            _format = format;
            _width = values.Select(v => format(v).Length).DefaultIfEmpty(1).Max();
        }

        public string Format(double v) => _format(v).PadLeft(_width);

        public static NumberFormat For(DType dtype, IEnumerable<double> values)
        {
            var all = values.ToList();
            if (dtype == DType.Bool) return new(v => v != 0 ? "True" : "False", all);
            if (!dtype.IsFloating()) return new(v => ((long)v).ToString(CultureInfo.InvariantCulture), all);
            var finite = all.Where(double.IsFinite).Select(Math.Abs).ToList();
            bool integral = finite.All(v => v == Math.Floor(v));
            double max = finite.DefaultIfEmpty(0).Max();
            double minNonZero = finite.Where(v => v > 0).DefaultIfEmpty(1).Min();
            bool scientific = max >= 1e8 || (!integral && (minNonZero < 1e-4 || max / minNonZero > 1e3 && max >= 1e3));
            Func<double, string> f = v =>
                double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf"
                : scientific ? v.ToString("0.0000e+00", CultureInfo.InvariantCulture)
                : integral ? v.ToString("0", CultureInfo.InvariantCulture) + "."
                : v.ToString("0.0000", CultureInfo.InvariantCulture);
            return new(f, all);
        }
    }
}
