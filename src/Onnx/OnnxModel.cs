using Engine.Layers;
using Engine.Onnx.Proto;
using Google.Protobuf;

namespace Engine.Onnx;

/// <summary>A missing, corrupt or unsupported ONNX model, or an input the graph cannot take; the message names the file or node.</summary>
public sealed class OnnxException(string message) : EngineException(message);

/// <summary>Choices the importer makes where a model file is more specific than its use.</summary>
public sealed record OnnxImportOptions
{
    /// <summary>
    /// An AveragePool whose output is a graph output and whose window is fixed (ResNet's 7×7 over
    /// 224×224 inputs) averages the whole plane instead, so other input sizes give one value per
    /// channel too. Default on.
    /// </summary>
    public bool FinalAveragePoolAsGlobal { get; init; } = true;
}

/// <summary>
/// An ONNX graph as a <see cref="Module"/>: floating-point initializers become named
/// <see cref="Parameter"/>s (trainable, freezable), BatchNormalization's running mean and variance
/// become buffers, and <see cref="Module.Forward"/> runs the nodes in order through autograd, so the
/// model can be fine-tuned. Declared input sizes are not enforced: any size the graph's ops accept
/// runs, and one they do not fails naming the node and the shapes. Calls from many threads at once
/// are safe and give the same bits as one call at a time, as long as nothing changes the model
/// meanwhile (its parameters, <see cref="Module.Train"/>/<see cref="Module.Eval"/>, <see cref="Stages"/>).
/// </summary>
public sealed partial class OnnxModel : Module, IStaged
{
    private readonly GraphProto _graph;
    private readonly OnnxImportOptions _options;
    private readonly Dictionary<string, Parameter> _parameters = [];
    private readonly Dictionary<string, Tensor> _constants = [];
    private readonly HashSet<string> _graphOutputs;
    private readonly HashSet<NodeProto> _globalPools = new(ReferenceEqualityComparer.Instance);
    private double? _batchNormMomentum;
    private readonly Dictionary<NodeProto, FoldedConv> _foldCache = new(ReferenceEqualityComparer.Instance);
    /// <summary>The nodes run per call, in order: the file's, rewritten (Conv + BatchNormalization fused), with the constant ones folded away.</summary>
    private readonly List<OnnxNode> _plan = [];

    /// <summary>The ops the importer runs (default domain), for opsets 1 to 21.</summary>
    public static IReadOnlySet<string> SupportedOps { get; } = new HashSet<string>(OnnxOps.Names);

    private OnnxModel(string source, ModelProto model, OnnxImportOptions options)
    {
        Source = source;
        _graph = model.Graph;
        _options = options;
        Producer = string.IsNullOrEmpty(model.ProducerVersion) ? model.ProducerName : $"{model.ProducerName} {model.ProducerVersion}";
        Opset = OpsetOf(model);
        var initializerNames = _graph.Initializer.Select(t => t.Name).ToHashSet();
        Inputs = [.. _graph.Input.Where(i => !initializerNames.Contains(i.Name)).Select(i => i.Name)];
        Outputs = [.. _graph.Output.Select(o => o.Name)];
        _graphOutputs = [.. Outputs];
        DeclaredInputShapes = [.. _graph.Input.Where(i => !initializerNames.Contains(i.Name)).Select(i =>
            (IReadOnlyList<long?>)[.. (i.Type?.TensorType?.Shape?.Dim ?? []).Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : (long?)null)])];

        if (options.FinalAveragePoolAsGlobal) FindFinalGlobalPools();
        var buffers = new HashSet<string>();
        foreach (var node in _graph.Node.Where(n => n.OpType == "BatchNormalization"))
            foreach (var name in node.Input.Skip(3).Take(2)) buffers.Add(name);
        var used = new HashSet<string>();
        void Add(string key, Tensor tensor)
        {
            string name = UniqueName(Sanitize(key), used);
            if (buffers.Contains(key) || !tensor.DType.IsFloating())
                _constants[key] = tensor.DType.IsFloating() ? RegisterBuffer(name, tensor) : TensorScope.Escape(tensor);
            else
                _parameters[key] = RegisterParameter(name, tensor);
        }
        string? folder = File.Exists(source) ? Path.GetDirectoryName(Path.GetFullPath(source)) : null;
        foreach (var t in _graph.Initializer)
            Add(t.Name, OnnxTensors.ToTensor(t, $"{source}: initializer '{t.Name}'", folder));
        // weights in Constant nodes (converters from Paddle and TensorFlow write them so) are parameters like
        // initializers; one-element constants (an exporter's 0.5, √2 or ε) stay fixed and are folded below
        var constantWeights = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        foreach (var node in _graph.Node.Where(n => n.OpType == "Constant" && n.Domain is "" or "ai.onnx" && n.Output.Count == 1))
        {
            var value = node.Attribute.FirstOrDefault(a => a.Name == "value")?.T;
            if (value is null || (TensorProto.Types.DataType)value.DataType is not (TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double
                or TensorProto.Types.DataType.Float16 or TensorProto.Types.DataType.Bfloat16)) continue;
            var tensor = OnnxTensors.ToTensor(value, $"{source}: node {OnnxNode.Describe(node)}: value", folder);
            if (tensor.Numel < 2) { tensor.Dispose(); continue; }
            Add(node.Output[0], tensor);
            constantWeights.Add(node);
        }
        var fused = OnnxRewrite.FuseConvBatchNorm(_graph.Node.Where(n => !constantWeights.Contains(n)), _graphOutputs);
        foreach (var node in OnnxRewrite.FuseRelu(fused, _graphOutputs))
            _plan.Add(new OnnxNode(node, source, Opset));
        PrepareSubgraphs(_graph);
        FoldConstants();
        FoldKnownShapes();
        PruneUnread();
        _declaredRanks = [.. _graph.Input.Where(i => !initializerNames.Contains(i.Name)).Select(i => i.Type?.TensorType?.Shape is { } shape ? shape.Dim.Count : (int?)null)];
    }

    /// <summary>The rank each graph input declares (null where it declares none): inputs of another rank are refused.</summary>
    private readonly int?[] _declaredRanks = [];

    /// <summary>
    /// Computes once, at load, the nodes whose integer outputs shape inference knows completely (the dims the weights
    /// fix, carried through Shape, Gather, Unsqueeze, Concat, Reshape and the like; see <see cref="OnnxShapes"/>).
    /// </summary>
    private void FoldKnownShapes()
    {
        var known = new Dictionary<string, Known>();
        foreach (var v in _graph.Input.Where(v => Inputs.Contains(v.Name))) known[v.Name] = OnnxShapes.Declared(v);
        foreach (var (name, p) in _parameters) known[name] = new Known(p.DType, [.. p.Shape.ToArray().Select(d => (int?)d)], null);
        foreach (var (name, t) in _constants) known[name] = OnnxShapes.Of(t);
        var folded = new List<OnnxNode>();
        foreach (var node in _plan)
        {
            var proto = node.Proto;
            var inputs = proto.Input.Select(i => i.Length > 0 && known.TryGetValue(i, out var k) ? k : Known.Nothing).ToArray();
            var outputs = OnnxShapes.Infer(node, inputs);
            bool fold = OnnxOps.Foldable(proto) && proto.Output.Count > 0 && outputs.Length >= proto.Output.Count
                && !proto.Output.Any(_graphOutputs.Contains)
                && Enumerable.Range(0, proto.Output.Count).All(o => proto.Output[o].Length == 0 || outputs[o].Complete);
            for (int o = 0; o < proto.Output.Count && o < outputs.Length; o++)
            {
                if (proto.Output[o].Length == 0) continue;
                known[proto.Output[o]] = outputs[o];
                if (!fold) continue;
                var k = outputs[o];
                using var values = Tensor.FromArray(k.Values!.Select(v => v!.Value).ToArray()).Reshape([.. k.Dims!.Select(d => d!.Value)]);
                _constants[proto.Output[o]] = TensorScope.Escape(values.To(k.Type!.Value));
            }
            if (fold) folded.Add(node);
        }
        _plan.RemoveAll(folded.Contains);
    }

    /// <summary>
    /// Drops the nodes nothing reads any more (a Shape whose consumers were folded): from the graph's outputs back,
    /// a node stays when a later node, a subgraph or a graph output reads one of its outputs. Nodes that draw random
    /// numbers stay too (they advance the generator).
    /// </summary>
    private void PruneUnread()
    {
        var read = new HashSet<string>(_graphOutputs);
        var keep = new HashSet<OnnxNode>(ReferenceEqualityComparer.Instance);
        for (int i = _plan.Count - 1; i >= 0; i--)
        {
            var node = _plan[i];
            if (!node.Proto.Output.Any(read.Contains) && OnnxOps.Foldable(node.Proto)) continue;
            keep.Add(node);
            foreach (var name in node.Proto.Input.Concat(OnnxRewrite.SubgraphReads(node.Proto))) read.Add(name);
        }
        _plan.RemoveAll(n => !keep.Contains(n));
    }

    /// <summary>How many nodes run per call (after fusion and folding at load).</summary>
    internal int PlanLength => _plan.Count;

    /// <summary>
    /// Computes once, at load, every node whose inputs are all constants (Constant nodes, integer initializers
    /// and what is computed from them: the shape arithmetic exporters write) and keeps its outputs as constants.
    /// </summary>
    private void FoldConstants()
    {
        var folded = new List<OnnxNode>();
        using (GradMode.NoGrad())
            foreach (var node in _plan)
            {
                var proto = node.Proto;
                if (!OnnxOps.Foldable(proto) || proto.Input.Any(i => i.Length > 0 && !_constants.ContainsKey(i))) continue;
                if (proto.Output.Any(_graphOutputs.Contains) || OnnxOps.Find(proto, s_fused) is not { } op) continue;
                var inputs = proto.Input.Select(i => i.Length > 0 ? new Variable(_constants[i]) : null).ToArray();
                Variable[] outputs;
                using (Tensor.Scope())
                {
                    outputs = Execute(node, op, inputs);
                    for (int o = 0; o < outputs.Length && o < proto.Output.Count; o++)
                        if (proto.Output[o].Length > 0) _constants[proto.Output[o]] = TensorScope.Escape(outputs[o].Data);
                }
                folded.Add(node);
            }
        _plan.RemoveAll(folded.Contains);
    }

    /// <summary>The running mean or variance buffer a BatchNormalization reads, or null when the value is computed.</summary>
    internal Tensor? RunningStatistic(string name) => _constants.GetValueOrDefault(name);

    /// <summary>The momentum BatchNormalization uses in PyTorch's convention when set (after <see cref="ResetParameters"/>), else the file's.</summary>
    internal double? BatchNormMomentum => _batchNormMomentum;

    /// <summary>True for an AveragePool that <see cref="OnnxImportOptions.FinalAveragePoolAsGlobal"/> makes global.</summary>
    internal bool IsFinalGlobalPool(NodeProto node) => _globalPools.Contains(node);

    /// <summary>Where the model came from (its path).</summary>
    public string Source { get; }
    /// <summary>The tool that wrote the file (e.g. "CNTK 2.7").</summary>
    public string Producer { get; }
    /// <summary>The default-domain opset the model declares.</summary>
    public long Opset { get; }
    /// <summary>The graph's inputs that are not initializers, in order.</summary>
    public IReadOnlyList<string> Inputs { get; }
    /// <summary>The graph's outputs, in order.</summary>
    public IReadOnlyList<string> Outputs { get; }
    /// <summary>The declared shapes of <see cref="Inputs"/> (null where symbolic); informative only.</summary>
    public IReadOnlyList<IReadOnlyList<long?>> DeclaredInputShapes { get; }
    /// <summary>The parameter created for an initializer, by its name in the file.</summary>
    public Parameter ParameterOf(string initializer) => _parameters[initializer];

    /// <inheritdoc/>
    public override string TypeName => "OnnxModel";

    /// <summary>
    /// Reads and checks an ONNX file: a missing, empty, truncated or corrupt file, a graph without
    /// nodes, an invalid graph (values assigned twice or read before they are defined, repeated
    /// attributes, wrong input counts, sizes out of range: all problems in one message), initializers
    /// whose data does not match their dims, and unsupported ops (all of them, with their node names,
    /// in one message) are each one <see cref="OnnxException"/>.
    /// </summary>
    public static OnnxModel Load(string path, OnnxImportOptions? options = null)
    {
        var model = Parse(path);
        CheckOps(path, model);
        return new OnnxModel(path, model, options ?? new OnnxImportOptions());
    }

    /// <summary>
    /// Loads the feature extractor of an image classifier: the graph cut where its features enter the
    /// final classifier, so that a new head can take them. <paramref name="cut"/> names the node (or
    /// tensor) whose output is the features; without it the classifier is found (see
    /// <see cref="OnnxBackbone.FindFeatures"/>), and a graph without one is kept whole. Nodes after
    /// the cut are dropped with their initializers, so ops the importer does not support may appear
    /// there. <see cref="Cut"/> says what was cut.
    /// </summary>
    public static OnnxModel LoadBackbone(string path, string? cut = null, OnnxImportOptions? options = null)
    {
        var model = Parse(path);
        var description = OnnxBackbone.CutGraph(path, model.Graph, cut);
        CheckOps(path, model);
        return new OnnxModel(path, model, options ?? new OnnxImportOptions()) { Cut = description };
    }

    /// <summary>Where <see cref="LoadBackbone"/> cut the graph (null when the graph was kept whole).</summary>
    public string? Cut { get; private init; }

    private static ModelProto Parse(string path)
    {
        if (!File.Exists(path)) throw new OnnxException($"{path}: no such file");
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0) throw new OnnxException($"{path}: the file is empty");
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxException($"{path}: not a readable ONNX model (truncated or corrupt protobuf: {e.Message})");
        }
        if (model.Graph is null || model.Graph.Node.Count == 0)
            throw new OnnxException($"{path}: not an ONNX model: no graph with nodes (a {bytes.Length}-byte file)");
        if (model.Graph.Output.Count == 0)
            throw new OnnxException($"{path}: the graph declares no outputs");
        OnnxChecks.Validate(path, model);
        return model;
    }

    /// <summary>Refuses, at load, every node the importer cannot run as the file means it: one message, each problem once.</summary>
    private static void CheckOps(string path, ModelProto model)
    {
        long opset = OpsetOf(model);
        var graph = model.Graph;
        // ranks the file fixes: initializers, Constant nodes' values, declared graph inputs
        var ranks = new Dictionary<string, int>();
        foreach (var v in graph.Input)
            if (v.Type?.TensorType?.Shape is { } shape) ranks[v.Name] = shape.Dim.Count;
        foreach (var t in graph.Initializer) ranks[t.Name] = t.Dims.Count;
        foreach (var n in graph.Node.Where(n => n.OpType == "Constant" && n.Output.Count == 1))
            if (n.Attribute.FirstOrDefault(a => a.Name == "value")?.T is { } value) ranks[n.Output[0]] = value.Dims.Count;
        static IEnumerable<NodeProto> All(GraphProto g) =>
            g.Node.Concat(g.Node.SelectMany(n => n.Attribute.SelectMany(a => a.G is null ? a.Graphs : a.Graphs.Prepend(a.G)).SelectMany(All)));
        var problems = All(graph).Select(n => OnnxOps.Problem(new OnnxNode(n, path, opset) { KnownRank = name => ranks.TryGetValue(name, out int r) ? r : null }))
            .Where(p => p is not null).ToList();
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet();
        foreach (var v in graph.Input.Where(v => !initializers.Contains(v.Name)).Concat(graph.Output))
            if (v.Type?.TensorType is { } t && t.ElemType != 0 && OnnxTensors.EngineType((TensorProto.Types.DataType)t.ElemType) is null)
                problems.Add($"graph {(graph.Output.Contains(v) ? "output" : "input")} '{v.Name}' of type {(TensorProto.Types.DataType)t.ElemType} is not supported (float, double, int32, int64 and bool are)");
            else if (v.Type is { } type && type.ValueCase is not (TypeProto.ValueOneofCase.TensorType or TypeProto.ValueOneofCase.None))
                problems.Add($"graph {(graph.Output.Contains(v) ? "output" : "input")} '{v.Name}' is a {type.ValueCase}, not a tensor: not supported");
        if (problems.Count > 0)
            throw new OnnxException($"{path}: {problems.Count} node(s) are not supported: {string.Join("; ", problems)}");
    }

    private static long OpsetOf(ModelProto model) =>
        model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();

    /// <summary>
    /// The AveragePools that produce a graph output and, at the declared input size, cover their whole
    /// input plane (ResNet's 7×7 over 7×7): they become global averages for other input sizes. Spatial
    /// sizes are followed from the declared input through Conv and the pools; other ops keep them.
    /// </summary>
    private void FindFinalGlobalPools()
    {
        if (DeclaredInputShapes.Count != 1 || DeclaredInputShapes[0].Count != 4 || DeclaredInputShapes[0][2] is null || DeclaredInputShapes[0][3] is null) return;
        var spatial = new Dictionary<string, (long H, long W)> { [Inputs[0]] = (DeclaredInputShapes[0][2]!.Value, DeclaredInputShapes[0][3]!.Value) };
        foreach (var node in _graph.Node)
        {
            if (node.Input.Count == 0 || !spatial.TryGetValue(node.Input[0], out var hw)) continue;
            var at = node.Attribute.ToDictionary(x => x.Name);
            long[] Ints(string name, long fallback, int n) => at.TryGetValue(name, out var v) && v.Ints.Count == n ? [.. v.Ints] : [.. Enumerable.Repeat(fallback, n)];
            (long, long) Out(long kh, long kw)
            {
                var s = Ints("strides", 1, 2);
                var d = Ints("dilations", 1, 2);
                var p = Ints("pads", 0, 4);
                bool ceil = at.TryGetValue("ceil_mode", out var c) && c.I != 0;
                long O(long size, long k, long st, long dl, long pb, long pe)
                {
                    long span = size + pb + pe - dl * (k - 1) - 1;
                    return span < 0 ? 0 : (ceil ? (span + st - 1) / st : span / st) + 1;
                }
                return (O(hw.H, kh, s[0], d[0], p[0], p[2]), O(hw.W, kw, s[1], d[1], p[1], p[3]));
            }
            (long H, long W) result = hw;
            if (node.OpType == "Conv")
            {
                var w = _graph.Initializer.FirstOrDefault(t => node.Input.Count > 1 && t.Name == node.Input[1]);
                if (w is null || w.Dims.Count != 4 || (at.TryGetValue("auto_pad", out var ap) && ap.S.ToStringUtf8() is not ("NOTSET" or ""))) continue;
                result = Out(w.Dims[2], w.Dims[3]);
            }
            else if (node.OpType is "MaxPool" or "AveragePool")
            {
                var k = Ints("kernel_shape", 1, 2);
                if (node.OpType == "AveragePool" && node.Output.Any(_graphOutputs.Contains) && hw == (k[0], k[1])
                    && Ints("pads", 0, 4).All(p => p == 0))
                    _globalPools.Add(node);
                result = Out(k[0], k[1]);
            }
            else if (node.OpType is "GlobalAveragePool") result = (1, 1);
            else if (node.OpType is "Flatten" or "Reshape" or "Gemm" or "MatMul" or "Transpose" or "Concat") continue;
            foreach (var o in node.Output) spatial[o] = result;
        }
    }

    /// <summary>
    /// The input shape used to trace the graph for <see cref="Stages"/>: by default the declared input
    /// shape with batch 1 (and 224 for a side left symbolic). Set it to the size the model will run at.
    /// </summary>
    public int[] ExampleInputShape
    {
        get => _exampleInput ?? [1, .. DeclaredInputShapes.Count == 1 && DeclaredInputShapes[0].Count == 4
            ? DeclaredInputShapes[0].Skip(1).Select((d, i) => d is > 0 and <= int.MaxValue ? (int)d : i == 0 ? 3 : 224)
            : [3, 224, 224]];
        set
        {
            _exampleInput = [.. value];
            _stages = null;
        }
    }

    private int[]? _exampleInput;
    private IReadOnlyList<IReadOnlyList<Parameter>>? _stages;

    /// <summary>
    /// The parameters grouped by the spatial size the graph works at where it reads them, largest
    /// first: for ResNet18 the stem, then its four stages (each with its downsampling convolution).
    /// Found by running the graph once on zeros of <see cref="ExampleInputShape"/>; parameters read
    /// where the data is not an image (after flattening) join the last stage.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<Parameter>> Stages()
    {
        if (_stages is not null) return _stages;
        var area = new Dictionary<Parameter, long>(ReferenceEqualityComparer.Instance);
        using (Tensor.Scope())
        using (GradMode.NoGrad())
        {
            bool training = IsTraining;
            Eval();
            try
            {
                RunGraph([new Variable(Tensor.Zeros(ExampleInputShape))], (node, outputs) =>
                {
                    long a = outputs.Length > 0 && outputs[0].Rank == 4 ? (long)outputs[0].Shape[2] * outputs[0].Shape[3] : 0;
                    foreach (var i in node.Input)
                        if (_parameters.TryGetValue(i, out var p) && !area.ContainsKey(p)) area[p] = a;
                });
            }
            finally { Train(training); }
        }
        var sizes = area.Values.Where(a => a > 0).Distinct().OrderDescending().ToList();
        var stages = sizes.Select(_ => new List<Parameter>()).ToList();
        if (stages.Count == 0) stages.Add([]);
        foreach (var (_, p) in NamedParameters())
            stages[area.TryGetValue(p, out var a) && a > 0 ? sizes.IndexOf(a) : stages.Count - 1].Add(p);
        return _stages = [.. stages.Where(s => s.Count > 0)];
    }

    /// <summary>The parameters of the last of <see cref="Stages"/> (for ResNet18, the 7×7 stage at 224×224).</summary>
    public IReadOnlyList<Parameter> LastStageParameters() => Stages()[^1];

    /// <summary>Makes the last stage's parameters trainable again after <see cref="Module.Freeze"/> (batch norms keep their running statistics).</summary>
    public OnnxModel UnfreezeLastStage()
    {
        foreach (var p in LastStageParameters()) p.SetRequiresGrad(true);
        return this;
    }

    /// <summary>
    /// Replaces the pretrained values by a fresh initialisation (the same network trained from
    /// scratch): convolution and matrix weights Kaiming-normal (fan-out, ReLU gain, as torchvision's
    /// ResNets), BatchNormalization scales 1, biases 0, running means 0 and variances 1 (updated with
    /// momentum 0.1 from then on), other vectors 0.
    /// </summary>
    public OnnxModel ResetParameters(Generator generator)
    {
        var scales = _graph.Node.Where(n => n.OpType == "BatchNormalization").Select(n => n.Input[1]).ToHashSet();
        var variances = _graph.Node.Where(n => n.OpType == "BatchNormalization").Select(n => n.Input[4]).ToHashSet();
        foreach (var (name, p) in _parameters)
        {
            if (p.Rank >= 2) Init.KaimingNormal(p.Data, fanOut: true, nonlinearity: "relu", generator: generator);
            else p.Data.FillInPlace(scales.Contains(name) ? 1 : 0);
        }
        foreach (var (name, t) in _constants)
            if (t.DType.IsFloating()) t.FillInPlace(variances.Contains(name) ? 1 : 0);
        // the file's momentum (CNTK's 0.988: running statistics that barely move) suits a trained network;
        // from scratch they must follow the weights, so batch norms use PyTorch's default 0.1 instead
        _batchNormMomentum = 0.1;
        return this;
    }

    private static string Sanitize(string name)
    {
        var chars = name.Select(c => char.IsLetterOrDigit(c) || c == '_' ? c : '_').ToArray();
        return chars.Length == 0 ? "initializer" : new string(chars);
    }

    private static string UniqueName(string name, HashSet<string> used)
    {
        string n = name;
        for (int k = 2; !used.Add(n); k++) n = $"{name}_{k}";
        return n;
    }

    /// <summary>Runs the graph on its single input and returns its first output.</summary>
    public override Variable Forward(Variable x)
    {
        if (Inputs.Count != 1)
            throw new OnnxException($"{Source}: the graph has {Inputs.Count} inputs ({string.Join(", ", Inputs)}); call Run with all of them");
        return Run(x)[0];
    }

    /// <summary>Runs the graph on <paramref name="inputs"/> (in the order of <see cref="Inputs"/>) and returns every output.</summary>
    public IReadOnlyList<Variable> Run(params Variable[] inputs) => RunGraph(inputs, null);

    /// <summary>Runs the graph once and returns each node with the milliseconds it took (host time; for profiling).</summary>
    internal IReadOnlyList<(NodeProto Node, double Milliseconds, int[] OutputShape)> Profile(params Variable[] inputs)
    {
        var times = new List<(NodeProto, double, int[])>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        RunGraph(inputs, (node, outputs) =>
        {
            times.Add((node, clock.Elapsed.TotalMilliseconds, outputs.Length > 0 ? outputs[0].Shape.ToArray() : []));
            clock.Restart();
        });
        return times;
    }

    /// <summary>Runs the nodes in order; <paramref name="observe"/> sees each node's outputs.</summary>
    private IReadOnlyList<Variable> RunGraph(Variable[] inputs, Action<NodeProto, Variable[]>? observe)
    {
        if (inputs.Length != Inputs.Count)
            throw new OnnxException($"{Source}: the graph takes {Inputs.Count} input(s) ({string.Join(", ", Inputs)}) but {inputs.Length} were given");
        for (int i = 0; i < inputs.Length && i < _declaredRanks.Length; i++)
            if (_declaredRanks[i] is { } rank && inputs[i].Rank != rank)
                throw new OnnxException($"{Source}: input '{Inputs[i]}' is {Errors.Shape(inputs[i].Shape)}, but the graph declares it of rank {rank}");
        // state of this call only: calls on other threads run the same graph at the same time
        var values = new Dictionary<string, Variable>(inputs.Length + _parameters.Count + _constants.Count + _plan.Count);
        for (int i = 0; i < inputs.Length; i++) values[Inputs[i]] = inputs[i];
        foreach (var (name, p) in _parameters) values[name] = p;
        foreach (var (name, t) in _constants) values[name] = new Variable(t);
        // an observer (Profile) may keep what it sees: nothing is released under one
        RunNodes(_plan, values, observe, GradMode.IsEnabled || !ReleaseIntermediates || observe != null ? null : Releases(inputs));
        return [.. Outputs.Select(o => values.TryGetValue(o, out var v) ? v : throw new OnnxException($"{Source}: graph output '{o}' is never produced"))];
    }

    /// <summary>
    /// Without a gradient to record, each intermediate value is disposed after the node that reads it last (subgraphs'
    /// reads included), so its buffer goes back to the pool while still in cache and the next node's output reuses it:
    /// a call holds a few activations at a time instead of all of them. Graph outputs, the call's inputs, parameters and
    /// constants are never released, nor a tensor another live name still holds (an op may return its input).
    /// </summary>
    /// <summary>Whether inference releases intermediates early (tests compare both ways).</summary>
    internal bool ReleaseIntermediates { get; set; } = true;

    [ThreadStatic] private static int t_released;

    /// <summary>Intermediate tensors released early by calls on this thread (for tests).</summary>
    internal static int ReleasedOnThisThread => t_released;

    private sealed class Release(Dictionary<string, int> lastRead, HashSet<Tensor> kept)
    {
        public readonly Dictionary<string, int> LastRead = lastRead;
        public readonly HashSet<Tensor> Kept = kept;
        public readonly Dictionary<Tensor, int> Holders = new(lastRead.Count, ReferenceEqualityComparer.Instance);
    }

    private Dictionary<string, int>? _lastRead;

    private Release Releases(Variable[] inputs)
    {
        // where each name is read last: the plan is fixed once loaded, so this is made on the first call (read-only after)
        var lastRead = Volatile.Read(ref _lastRead);
        if (lastRead is null)
        {
            lastRead = [];
            for (int i = 0; i < _plan.Count; i++)
                foreach (var name in _plan[i].Reads) lastRead[name] = i;
            foreach (var output in Outputs) lastRead[output] = int.MaxValue;
            Volatile.Write(ref _lastRead, lastRead);
        }
        var kept = new HashSet<Tensor>(inputs.Length + _parameters.Count + _constants.Count, ReferenceEqualityComparer.Instance);
        foreach (var v in inputs) kept.Add(v.Data);
        foreach (var p in _parameters.Values) kept.Add(p.Data);
        foreach (var t in _constants.Values) kept.Add(t);
        return new Release(lastRead, kept);
    }

    /// <summary>Runs <paramref name="plan"/> in order on <paramref name="values"/> (the scope: what the nodes read, where they write).</summary>
    private void RunNodes(IReadOnlyList<OnnxNode> plan, Dictionary<string, Variable> values, Action<NodeProto, Variable[]>? observe,
        Release? release = null)
    {
        for (int at = 0; at < plan.Count; at++)
        {
            var node = plan[at];
            var proto = node.Proto;
            var args = new Variable?[proto.Input.Count];
            for (int i = 0; i < args.Length; i++)
                if (proto.Input[i].Length > 0)
                    args[i] = values.TryGetValue(proto.Input[i], out var v) ? v : throw node.Error($"input '{proto.Input[i]}' is not produced by any earlier node");
            var op = OnnxOps.Find(proto, s_fused) ?? throw node.NotSupported($"op {proto.OpType}");
            var outputs = Execute(node, op, args, values);
            observe?.Invoke(proto, outputs);
            for (int o = 0; o < outputs.Length && o < proto.Output.Count; o++)
                if (proto.Output[o].Length > 0)
                {
                    values[proto.Output[o]] = outputs[o];
                    if (release != null) release.Holders[outputs[o].Data] = release.Holders.GetValueOrDefault(outputs[o].Data) + 1;
                }
            if (release == null) continue;
            // names read for the last time here, and outputs nothing reads: release what no other live name holds
            foreach (var name in node.Touches)
                if (release.LastRead.GetValueOrDefault(name, -1) <= at && values.Remove(name, out var dead)
                    && release.Holders.TryGetValue(dead.Data, out int holders))
                {
                    if (holders > 1) release.Holders[dead.Data] = holders - 1;
                    else
                    {
                        release.Holders.Remove(dead.Data);
                        if (!release.Kept.Contains(dead.Data))
                        {
                            dead.Data.Dispose();
                            t_released++;
                        }
                    }
                }
        }
    }

    /// <summary>Runs one op; an engine error, or a slip in the op's own code, becomes an error naming the node and its input shapes.</summary>
    private Variable[] Execute(OnnxNode node, OpDef op, Variable?[] args, IReadOnlyDictionary<string, Variable>? scope = null)
    {
        try
        {
            var outputs = op.Run(new OnnxCall(node, args, this, scope));
            int wanted = Enumerable.Range(0, node.OutputCount).Count(node.WantsOutput);
            if (outputs.Length < node.OutputCount && Enumerable.Range(outputs.Length, node.OutputCount - outputs.Length).Any(node.WantsOutput))
                throw node.NotSupported($"output {outputs.Length} of {node.OpType} ({wanted} are named; {outputs.Length} are produced)");
            return outputs;
        }
        catch (Exception e) when (e is EngineException and not OnnxException
            || e is ArgumentException or IndexOutOfRangeException or InvalidOperationException or OverflowException or DivideByZeroException or InvalidCastException or NotSupportedException)
        {
            var shapes = args.Where(v => v is not null).Select(v => $"{Errors.Shape(v!.Shape)} {v.DType.Name()}");
            string why = e is EngineException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            throw node.Error($"cannot take its inputs {string.Join(" and ", shapes)}: {why}");
        }
    }
}
