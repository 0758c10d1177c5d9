namespace Engine.Onnx;

// Reductions (axes as an attribute, or as an input from opset 13 for ReduceSum and 18 for the rest),
// ArgMax/ArgMin, and Einsum written as permutes, reshapes and one batched matrix product.
internal static partial class OnnxOps
{
    private static void RegisterReduce(Dictionary<string, OpDef> ops)
    {
        ops["ReduceSum"] = new(c => Reduce(c, 13, (x, axes, keep) => x.Sum(axes, keep)));
        ops["ReduceMean"] = new(c => Reduce(c, 18, (x, axes, keep) => x.Mean(axes, keep)));
        ops["ReduceMax"] = new(c => Reduce(c, 18, (x, axes, keep) => x.Max(axes, keep)));
        ops["ReduceMin"] = new(c => Reduce(c, 18, (x, axes, keep) => x.Min(axes, keep)));
        ops["ReduceProd"] = new(c => Reduce(c, 18, Product));
        ops["ReduceSumSquare"] = new(c => Reduce(c, 18, (x, axes, keep) => (x * x).Sum(axes, keep)));
        ops["ReduceL1"] = new(c => Reduce(c, 18, (x, axes, keep) => x.Abs().Sum(axes, keep)));
        ops["ReduceL2"] = new(c => Reduce(c, 18, (x, axes, keep) => (x * x).Sum(axes, keep).Sqrt()));
        ops["ReduceLogSum"] = new(c => Reduce(c, 18, (x, axes, keep) => x.Sum(axes, keep).Log()));
        ops["ReduceLogSumExp"] = new(c => Reduce(c, 18, (x, axes, keep) => x.LogSumExp(axes, keep)));
        ops["ArgMax"] = new(c => ArgReduce(c, max: true));
        ops["ArgMin"] = new(c => ArgReduce(c, max: false));
    }

    private static Variable[] Reduce(OnnxCall c, int axesInputSince, Func<Variable, int[], bool, Variable> reduce)
    {
        var x = c.X(0);
        long[]? axes = c.Opset >= axesInputSince ? c.Longs(1) : c.Ints("axes");
        bool keep = c.Int("keepdims", 1) != 0;
        if (axes is null || axes.Length == 0)
        {
            if (c.Opset >= axesInputSince && c.Int("noop_with_empty_axes", 0) != 0) return [x];
            axes = [.. Enumerable.Range(0, x.Rank).Select(d => (long)d)];
        }
        int[] dims = [.. axes.Select(a => c.Axis(a, x.Rank)).Distinct().Order()];
        bool floating = x.DType.IsFloating();
        var input = floating ? x : new Variable(x.Data.To(DType.Float64));
        Variable y;
        if (x.Data.Numel == 0 || dims.Any(d => x.Shape[d] == 0))
            y = EmptyReduction(c, input, dims, keep);
        else y = dims.Length == 0 ? input : reduce(input, dims, keep);
        return [floating ? y : Constant(y.Data.To(x.DType))];
    }

    /// <summary>A reduction over an empty axis: ONNX's identities (0 for sums, 1 for products, −∞/+∞ for max/min, −∞ for log-sums).</summary>
    private static Variable EmptyReduction(OnnxCall c, Variable x, int[] dims, bool keep)
    {
        double value = c.Node.OpType switch
        {
            "ReduceProd" => 1,
            "ReduceMax" => double.NegativeInfinity,
            "ReduceMin" => double.PositiveInfinity,
            "ReduceLogSum" or "ReduceLogSumExp" => double.NegativeInfinity,
            "ReduceMean" => double.NaN,
            _ => 0,
        };
        int[] shape = keep ? [.. x.Shape.ToArray().Select((d, i) => dims.Contains(i) ? 1 : d)] : [.. x.Shape.ToArray().Where((_, i) => !dims.Contains(i))];
        return Constant(Tensor.Full(shape, value, x.DType, x.Device));
    }

    /// <summary>The product over axes as a chain of multiplications (so signs, zeros and gradients are exact).</summary>
    private static Variable Product(Variable x, int[] axes, bool keep)
    {
        // the reduced axes moved last and merged into one of length n, then multiplied slice by slice
        var rest = Enumerable.Range(0, x.Rank).Where(d => !axes.Contains(d)).ToArray();
        var moved = x.Permute([.. rest, .. axes]).Contiguous();
        int n = axes.Aggregate(1, (p, d) => p * x.Shape[d]);
        var flat = moved.Reshape([.. rest.Select(d => x.Shape[d]), n]);
        var acc = flat.Narrow(flat.Rank - 1, 0, 1);
        for (int i = 1; i < n; i++) acc *= flat.Narrow(flat.Rank - 1, i, 1);
        int[] shape = keep ? [.. x.Shape.ToArray().Select((d, i) => axes.Contains(i) ? 1 : d)] : [.. rest.Select(d => x.Shape[d])];
        return acc.Reshape(shape);
    }

    private static Variable[] ArgReduce(OnnxCall c, bool max)
    {
        var x = c.X(0).Data;
        int axis = c.Axis(c.Long("axis", 0), x.Rank);
        bool keep = c.Int("keepdims", 1) != 0, last = c.Int("select_last_index", 0) != 0;
        var input = x.DType.IsFloating() ? x : x.To(DType.Float64);
        if (!last) return [Constant(max ? input.ArgMax(axis, keep) : input.ArgMin(axis, keep))];
        // the last of equal extremes: the first one along the reversed axis, mapped back
        int n = x.Shape[axis];
        using var reverse = Tensor.FromArray(Enumerable.Range(0, n).Reverse().Select(i => (long)i).ToArray());
        using var flipped = input.IndexSelect(axis, reverse.To(x.Device));
        using var found = max ? flipped.ArgMax(axis, keep) : flipped.ArgMin(axis, keep);
        return [Constant(Tensor.Full([], n - 1, DType.Int64, x.Device).Sub(found))];
    }

    /// <summary>x's diagonal over axes <paramref name="a"/> &lt; <paramref name="b"/> (equal sizes), kept at a's place.</summary>
    private static Variable Diagonal(OnnxCall c, Variable x, int a, int b)
    {
        int n = x.Shape[a];
        if (x.Shape[b] != n) throw c.Error($"a repeated letter names axes {a} and {b} of sizes {n} and {x.Shape[b]}");
        // the two axes last, merged, and every (n + 1)-th element taken
        var rest = Enumerable.Range(0, x.Rank).Where(d => d != a && d != b).ToArray();
        var moved = x.Permute([.. rest, a, b]).Contiguous().Reshape([.. rest.Select(d => x.Shape[d]), n * n]);
        var diagonal = Take(moved, moved.Rank - 1, Tensor.FromArray(Enumerable.Range(0, n).Select(i => (long)i * (n + 1)).ToArray()));
        // back to the order with the diagonal at a
        int at = rest.Count(d => d < a);
        var inverse = Enumerable.Range(0, x.Rank - 1).Select(p => p < at ? p : p == at ? x.Rank - 2 : p - 1).ToArray();
        return diagonal.Permute(inverse).Contiguous();
    }

    /// <summary>
    /// Einsum of one or two operands (a letter repeated within one operand takes its diagonal first): letters in both operands and
    /// the output are batch dims, letters in both but not the output are contracted, letters in one only are
    /// kept or summed. Written as permutes and reshapes around one batched MatMul, so it trains.
    /// </summary>
    private static Variable Einsum(OnnxCall c, string equation, Variable[] operands)
    {
        equation = equation.Replace(" ", "");
        var sides = equation.Split("->");
        var inputs = sides[0].Split(',');
        if (inputs.Length != operands.Length || sides.Length > 2)
            throw c.Error($"equation '{equation}' names {inputs.Length} operands; {operands.Length} were given");
        if (equation.Contains("..."))
        {
            // the ellipsis stands for the same leading dims in every operand: named with unused capital letters
            int rank = operands.Select((o, i) => o.Rank - (inputs[i].Length - 3)).Max();
            string dots = new([.. Enumerable.Range(0, Math.Max(rank, 0)).Select(i => (char)('Z' - i))]);
            for (int i = 0; i < inputs.Length; i++)
            {
                int here = operands[i].Rank - (inputs[i].Length - (inputs[i].Contains("...") ? 3 : 0));
                inputs[i] = inputs[i].Replace("...", dots[(dots.Length - here)..]);
            }
            if (sides.Length == 2) sides[1] = sides[1].Replace("...", dots);
            else sides = [sides[0], dots];
        }
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i].Length != operands[i].Rank)
                throw c.Error($"'{inputs[i]}' has {inputs[i].Length} letters for operand {i} of rank {operands[i].Rank}");
            // a letter repeated within one operand: its diagonal, taken until every letter is there once
            while (inputs[i].GroupBy(ch => ch).FirstOrDefault(g => g.Count() > 1) is { } repeated)
            {
                int first = inputs[i].IndexOf(repeated.Key), second = inputs[i].IndexOf(repeated.Key, first + 1);
                (operands[i], inputs[i]) = (Diagonal(c, operands[i], first, second), inputs[i].Remove(second, 1));
            }
        }
        string output = sides.Length == 2 ? sides[1]
            : new string([.. inputs.SelectMany(s => s).GroupBy(ch => ch).Where(g => g.Count() == 1).Select(g => g.Key).Order()]);
        // letters an operand alone has and the output lacks are summed out first
        var reduced = new List<(Variable Value, string Letters)>();
        for (int i = 0; i < operands.Length; i++)
        {
            string letters = inputs[i];
            var others = string.Concat(inputs.Where((_, j) => j != i)) + output;
            int[] sum = [.. letters.Select((ch, d) => (ch, d)).Where(t => !others.Contains(t.ch)).Select(t => t.d)];
            var v = sum.Length > 0 ? operands[i].Sum(sum) : operands[i];
            reduced.Add((v, new string([.. letters.Where(ch => others.Contains(ch))])));
        }
        Variable result;
        string have;
        if (reduced.Count == 1) (result, have) = reduced[0];
        else if (reduced.Count == 2)
        {
            var (a, la) = reduced[0];
            var (b, lb) = reduced[1];
            string batch = new([.. la.Where(ch => lb.Contains(ch) && output.Contains(ch))]);
            string contract = new([.. la.Where(ch => lb.Contains(ch) && !output.Contains(ch))]);
            string freeA = new([.. la.Where(ch => !lb.Contains(ch))]), freeB = new([.. lb.Where(ch => !la.Contains(ch))]);
            int Size(Variable v, string letters, char ch) => v.Shape[letters.IndexOf(ch)];
            int Product(Variable v, string letters, string which) => which.Aggregate(1, (p, ch) => p * Size(v, letters, ch));
            foreach (var ch in batch.Concat(contract))
                if (Size(a, la, ch) != Size(b, lb, ch))
                    throw c.Error($"letter '{ch}' is {Size(a, la, ch)} in the first operand and {Size(b, lb, ch)} in the second");
            var a3 = a.Permute([.. (batch + freeA + contract).Select(ch => la.IndexOf(ch))]).Contiguous()
                .Reshape(Product(a, la, batch), Product(a, la, freeA), Product(a, la, contract));
            var b3 = b.Permute([.. (batch + contract + freeB).Select(ch => lb.IndexOf(ch))]).Contiguous()
                .Reshape(Product(b, lb, batch), Product(b, lb, contract), Product(b, lb, freeB));
            var product = a3.MatMul(b3);
            result = product.Reshape([.. batch.Select(ch => Size(a, la, ch)), .. freeA.Select(ch => Size(a, la, ch)), .. freeB.Select(ch => Size(b, lb, ch))]);
            have = batch + freeA + freeB;
        }
        else throw c.NotSupported($"Einsum of {operands.Length} operands (1 and 2 are)");
        if (have.Length != output.Length || output.Any(ch => !have.Contains(ch)))
            throw c.Error($"equation '{equation}': the output '{output}' does not follow from the operands");
        return have == output ? result : result.Permute([.. output.Select(ch => have.IndexOf(ch))]).Contiguous();
    }
}
