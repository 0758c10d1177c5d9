// Classifies one image with a model saved as safetensors: the CPU core (Engine.Core) published as
// one NativeAOT binary. Usage: Classify MODEL.safetensors IMAGE (PNG, JPEG, BMP or GIF)
// The model is the Fashion-MNIST MLP of Models.Mlp (28x28 grey images, 10 classes), as the Consumer sample saves it.
using System.Diagnostics;
using Engine;
using Engine.Data;
using Engine.Layers;

var clock = Stopwatch.StartNew();
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Classify MODEL.safetensors IMAGE");
    return 2;
}
try
{
    var model = Models.Mlp();
    model.Load(args[0]);
    model.Eval();
    var prep = new ImagePreprocessing { Size = 28, Grey = true, Channels = 1, Mean = [0.0], Std = [1.0] };
    using var scope = Tensor.Scope();
    using var noGrad = GradMode.NoGrad();
    var probabilities = model.Call(new Variable(prep.Load(args[1]))).Data.Softmax(-1);
    int best = (int)probabilities.ArgMax(-1).Item<long>();
    Console.WriteLine($"devices: {string.Join(", ", Device.Available())}");
    Console.WriteLine($"{args[1]}: {FashionMnist.ClassNames[best]} ({probabilities[0, best]:P1})");
    Console.WriteLine($"predicted: {FashionMnist.ClassNames[best]}");
    Console.WriteLine($"took {clock.Elapsed.TotalMilliseconds:F0} ms");
    return 0;
}
catch (EngineException e)
{
    Console.Error.WriteLine($"Classify: {e.Message}");
    return 1;
}
