using BenchmarkDotNet.Attributes;
using Engine.Layers;
using Engine.Optim;

namespace Engine.Benchmarks;

/// <summary>
/// Issue 5's training steps on our engine (bench/Compare times the same against libtorch):
/// <c>mlp</c> (<see cref="Models.Mlp"/>: 784→256→ReLU→128→ReLU→10) and <c>lenet</c>
/// (<see cref="Models.LeNet"/>), batch 128 of [1, 28, 28] images with int64 labels, SGD (lr 0.01,
/// momentum 0.9), cross-entropy. <see cref="Step"/> is the whole step; the others split it:
/// forward + loss (graph recorded), forward + loss + backward, and the optimizer step alone
/// (on the gradients the setup's step left), so backward ≈ ForwardBackward − ForwardLoss and the
/// remainder of Step is zeroing the gradients.
/// </summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    private const int Batch = 128;

    private Module _model = null!;
    private SGD _opt = null!;
    private readonly CrossEntropyLoss _loss = new();
    private Tensor _x = null!, _y = null!;

    [Params("mlp", "lenet")]
    public string Model { get; set; } = "mlp";

    [GlobalSetup]
    public void Setup()
    {
        _model = Models.Create(Model);
        _opt = new SGD(_model.Parameters(), lr: 0.01, momentum: 0.9);
        _x = Tensor.RandN(Batch, 1, 28, 28);
        _y = Tensor.RandInt(0, 10, [Batch]);
        Step();   // gradients and momentum buffers exist from here on (OptimizerStep uses them)
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _opt.Dispose();
        foreach (var p in _model.Parameters())
        {
            p.ZeroGrad();
            p.Data.Dispose();
        }
        _x.Dispose();
        _y.Dispose();
    }

    /// <summary>Zero grads, forward, cross-entropy, backward, SGD step (what bench/Compare times).</summary>
    [Benchmark(Baseline = true)]
    public void Step()
    {
        using (Tensor.Scope())
        {
            _opt.ZeroGrad();
            var l = _loss.Call(_model.Call(new Variable(_x)), new Variable(_y));
            l.Backward();
            _opt.Step();
        }
    }

    /// <summary>Forward and loss with the graph recorded (then disposed unused).</summary>
    [Benchmark]
    public void ForwardLoss()
    {
        using (Tensor.Scope())
            _loss.Call(_model.Call(new Variable(_x)), new Variable(_y));
    }

    /// <summary>Zero grads, forward, loss and backward: the step without the optimizer.</summary>
    [Benchmark]
    public void ForwardBackward()
    {
        using (Tensor.Scope())
        {
            _opt.ZeroGrad();
            var l = _loss.Call(_model.Call(new Variable(_x)), new Variable(_y));
            l.Backward();
        }
    }

    /// <summary>The SGD update alone (momentum buffers and parameters, on the last gradients).</summary>
    [Benchmark]
    public void OptimizerStep()
    {
        using (Tensor.Scope()) _opt.Step();
    }
}
