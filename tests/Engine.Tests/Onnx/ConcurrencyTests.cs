using Engine.Layers;
using Engine.Onnx;

namespace Engine.Tests;

/// <summary>
/// One model in eval mode under no-grad serves many threads at once: each thread's outputs equal,
/// bit for bit, what the same inputs give one call at a time. The imported ResNet18 (its
/// BatchNormalizations folded into the convolutions through a shared cache), an exported
/// conv/batch-norm stack loaded back, and a built-in model.
/// </summary>
public sealed class ConcurrencyTests
{
    private const int Threads = 6;
    private const int CallsPerThread = 4;

    /// <summary>The outputs of <paramref name="run"/> on each input, first one call at a time, then from <see cref="Threads"/> threads at once.</summary>
    private static void AssertSameUnderThreads(Func<Tensor, float[]> run, Func<int, Tensor> input)
    {
        int count = Threads * CallsPerThread;
        var expected = new float[count][];
        for (int i = 0; i < count; i++)
            using (var x = input(i)) expected[i] = run(x);

        var actual = new float[count][];
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                // each thread takes every Threads-th input, so that different inputs run at the same time
                for (int k = 0; k < CallsPerThread; k++)
                {
                    int i = k * Threads + t;
                    using var x = input(i);
                    actual[i] = run(x);
                }
            }
            catch (Exception e) { errors.Enqueue(e); }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(errors);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(expected[i].Length, actual[i].Length);
            int differing = expected[i].Where((v, j) => BitConverter.SingleToInt32Bits(v) != BitConverter.SingleToInt32Bits(actual[i][j])).Count();
            Assert.True(differing == 0, $"call {i}: {differing} of {expected[i].Length} outputs differ from the single-threaded run");
        }
    }

    private static Func<int, Tensor> Inputs(int[] shape) => i =>
    {
        var rng = new Generator(100UL + (ulong)i);
        return Tensor.RandN(shape, 0, 1, generator: rng);
    };

    private static float[] Forward(Module model, Tensor x)
    {
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        return model.Forward(new Variable(x)).Data.Reshape(-1).ToArray<float>();
    }

    [Fact]
    public void Imported_resnet18_serves_threads_bit_for_bit()
    {
        var model = OnnxModel.Load(PretrainedModels.ResNet18Path);
        model.Eval();
        AssertSameUnderThreads(x => Forward(model, x), Inputs([1, 3, 64, 64]));
    }

    [Fact]
    public void Exported_and_reloaded_stack_serves_threads_bit_for_bit()
    {
        var g = new Generator(5);
        var stack = new Sequential(new Conv2d(3, 8, 3, padding: 1, generator: g), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Conv2d(8, 8, 3, padding: 1, generator: g), new BatchNorm2d(8), new ReLU(), new GlobalAvgPool2d(), new Flatten(), new Linear(8, 4, generator: g));
        // running statistics that are not 0 and 1, so that the folded weights differ from the raw ones
        stack.Train();
        using (GradMode.NoGrad())
            for (int i = 0; i < 3; i++) stack.Forward(new Variable(Tensor.RandN([4, 3, 16, 16], 0, 1, generator: g)));
        stack.Eval();
        string path = Path.Combine(Directory.CreateTempSubdirectory("engine-concurrency-").FullName, "stack.onnx");
        try
        {
            OnnxExport.Save(stack, [3, 16, 16], path);
            var model = OnnxModel.Load(path);
            model.Eval();
            AssertSameUnderThreads(x => Forward(model, x), Inputs([2, 3, 16, 16]));
        }
        finally { Directory.Delete(Path.GetDirectoryName(path)!, recursive: true); }
    }

    [Fact]
    public void Built_in_resnet_serves_threads_bit_for_bit()
    {
        var model = Models.ResNetSmall(inChannels: 3, generator: new Generator(9));
        model.Eval();
        AssertSameUnderThreads(x => Forward(model, x), Inputs([2, 3, 32, 32]));
    }
}
