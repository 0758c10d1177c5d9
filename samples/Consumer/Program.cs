// A user's app built from the engine's packages (Engine.Core, Engine.Training, Engine.Ilgpu):
// trains an MLP on the Fashion-MNIST subset embedded in Engine.Data, saves it, and writes one test
// image as a BMP for the Classify sample. Usage: Consumer OUTPUT_FOLDER
using Engine;
using Engine.Data;
using Engine.Layers;
using Engine.Optim;
using Engine.Training;

string output = args.Length > 0 ? args[0] : "consumer-output";
Directory.CreateDirectory(output);

// Referencing Engine.Ilgpu is all it takes for its devices to appear.
Console.WriteLine($"devices: {string.Join(", ", Device.Available())}");
using (Tensor.Scope())
{
    var a = Tensor.Arange(0, 6).Reshape(2, 3);
    var onEmulator = (a.To(Device.IlgpuCpu) * 2).To(Device.Cpu);
    if (!onEmulator.ToArray<float>().SequenceEqual((a * 2).ToArray<float>())) return Fail("ilgpu-cpu and cpu disagree");
}

using var train = FashionMnist.LoadTrain();   // from the assembly's resources, wherever this runs
using var test = FashionMnist.LoadTest();
Console.WriteLine($"embedded Fashion-MNIST: {train.Count} training and {test.Count} test images");

var model = Models.Mlp(generator: new Generator(1));
var loss = new CrossEntropyLoss();
using var optimizer = new Adam(model.Parameters(), lr: 1e-3);
var history = Trainer.Fit(model, loss, optimizer, new DataLoader(train, 64, shuffle: true, seed: 1), epochs: 1);
var result = Trainer.Evaluate(model, loss, new DataLoader(test, 256));
Console.WriteLine($"after 1 epoch: loss {history.Epochs[^1].TrainLoss:F3}, test accuracy {result.Accuracy:P1}");
if (result.Accuracy < 0.70) return Fail($"test accuracy {result.Accuracy:P1} is below 70 %");

string modelPath = Path.Combine(output, "mlp.safetensors"), imagePath = Path.Combine(output, "test0.bmp");
model.Save(modelPath);
using (Tensor.Scope())
{
    var (image, label) = test.Get(0);
    WriteGreyBmp(imagePath, image.Reshape(28, 28).ToArray<float>());
    var prep = new ImagePreprocessing { Size = 28, Grey = true, Channels = 1, Mean = [0.0], Std = [1.0] };
    int predicted = (int)Trainer.Predict(model, prep.Load(imagePath)).ArgMax(-1).Item<long>();
    Console.WriteLine($"saved {modelPath} and {imagePath} (label {FashionMnist.ClassNames[(int)label]})");
    Console.WriteLine($"predicted: {FashionMnist.ClassNames[predicted]}");
}
return 0;

static int Fail(string why)
{
    Console.Error.WriteLine($"Consumer: {why}");
    return 1;
}

// 24-bit BMP, rows bottom-up, each padded to 4 bytes; values in [0, 1].
static void WriteGreyBmp(string path, float[] pixels)
{
    const int side = 28, row = (side * 3 + 3) / 4 * 4;
    using var w = new BinaryWriter(File.Create(path));
    w.Write((byte)'B'); w.Write((byte)'M'); w.Write(54 + row * side); w.Write(0); w.Write(54);
    w.Write(40); w.Write(side); w.Write(side); w.Write((short)1); w.Write((short)24); w.Write(0); w.Write(row * side);
    w.Write(2835); w.Write(2835); w.Write(0); w.Write(0);
    for (int y = side - 1; y >= 0; y--)
    {
        for (int x = 0; x < side; x++)
        {
            byte v = (byte)Math.Clamp(MathF.Round(pixels[y * side + x] * 255), 0, 255);
            w.Write(v); w.Write(v); w.Write(v);
        }
        for (int pad = side * 3; pad < row; pad++) w.Write((byte)0);
    }
}
