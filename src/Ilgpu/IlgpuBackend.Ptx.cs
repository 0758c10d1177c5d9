using System.Reflection;
using Engine.Kernels.Gpu;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Engine.Kernels;

// Compiling the CUDA kernels without a GPU: ILGPU's PTX backend needs no device, so CI can check
// that every float32 kernel the CUDA path uses translates to PTX (unsupported intrinsics, generic
// static calls, shared memory) even on machines that will never run it.
public sealed partial class IlgpuBackend
{
    /// <summary>The float32 kernels of the CUDA path: name, method, and whether it is explicitly grouped.</summary>
    internal static IEnumerable<(string Name, MethodInfo Method, bool Grouped)> Float32Kernels()
    {
        static MethodInfo M(Delegate d) => d.Method;
        yield return ("fill", M(ElementwiseKernels.Fill<float>), false);
        yield return ("copy", M(ElementwiseKernels.Copy<int>), false);
        yield return ("cast f32->i64", M(ElementwiseKernels.Cast<float, F32, long, I64>), false);
        yield return ("cast i64->f32", M(ElementwiseKernels.Cast<long, I64, float, F32>), false);
        foreach (var (name, m) in UnaryFloat32()) yield return ("unary " + name, m, false);
        foreach (var (name, m) in BinaryFloat32()) yield return ("binary " + name, m, false);
        yield return ("compare lt", M(ElementwiseKernels.Compare<float, CF32<LtOp>>), false);
        yield return ("where", M(ElementwiseKernels.Where<int>), false);
        yield return ("axpby", M(ElementwiseKernels.Axpby<float, AF32>), false);
        yield return ("random", M(ElementwiseKernels.Random<float, F32>), false);
        yield return ("reduce", M(ReduceKernels.Reduce<float, AF32>), true);
        yield return ("argreduce", M(ReduceKernels.ArgReduce<float, AF32>), true);
        yield return ("softmax", M(ReduceKernels.Softmax<float, AF32>), true);
        yield return ("gemm", M(GemmKernels.Gemm<float, AF32, StridedMatrix, StridedMatrix, StridedMatrix>), true);
        yield return ("conv forward (implicit gemm)", M(GemmKernels.Gemm<float, AF32, ConvWeights, ConvColumns, ConvOutput>), true);
        yield return ("conv backward weight (implicit gemm)", M(GemmKernels.Gemm<float, AF32, ConvOutput, ConvColumnsT, ConvWeights>), true);
        yield return ("conv backward input", M(GemmKernels.ConvBackwardInput<float, AF32>), false);
        yield return ("max pool", M(PoolIndexKernels.MaxPool<float, AF32>), false);
        yield return ("max pool backward", M(PoolIndexKernels.MaxPoolBackward<float, AF32>), false);
        yield return ("avg pool", M(PoolIndexKernels.AvgPool<float, AF32>), false);
        yield return ("avg pool backward", M(PoolIndexKernels.AvgPoolBackward<float, AF32>), false);
        yield return ("index select", M(PoolIndexKernels.IndexSelect<float>), false);
        yield return ("gather", M(PoolIndexKernels.Gather<float>), false);
        yield return ("scatter add", M(PoolIndexKernels.ScatterAdd<float, AF32>), false);
    }

    private static IEnumerable<(string, MethodInfo)> UnaryFloat32()
    {
        static MethodInfo U<TOp>() where TOp : IUnaryOp =>
            ((Action<Index1D, ArrayView<float>, Strides6, ArrayView<float>, Strides6, Shape6>)ElementwiseKernels.Unary<float, UF32<TOp>>).Method;
        yield return ("neg", U<NegOp>()); yield return ("exp", U<ExpOp>()); yield return ("log", U<LogOp>());
        yield return ("sqrt", U<SqrtOp>()); yield return ("abs", U<AbsOp>()); yield return ("sign", U<SignOp>());
        yield return ("tanh", U<TanhOp>()); yield return ("sigmoid", U<SigmoidOp>()); yield return ("relu", U<ReluOp>());
        yield return ("erf", U<ErfOp>()); yield return ("reciprocal", U<ReciprocalOp>()); yield return ("square", U<SquareOp>());
        yield return ("sin", U<SinOp>()); yield return ("cos", U<CosOp>()); yield return ("floor", U<FloorOp>());
        yield return ("ceil", U<CeilOp>());
    }

    private static IEnumerable<(string, MethodInfo)> BinaryFloat32()
    {
        static MethodInfo B<TOp>() where TOp : IBinaryOp =>
            ((Action<Index1D, ArrayView<float>, Strides6, ArrayView<float>, Strides6, ArrayView<float>, Strides6, Shape6>)ElementwiseKernels.Binary<float, BF32<TOp>>).Method;
        yield return ("add", B<AddOp>()); yield return ("sub", B<SubOp>()); yield return ("mul", B<MulOp>());
        yield return ("div", B<DivOp>()); yield return ("pow", B<PowOp>()); yield return ("max", B<MaxOp>());
        yield return ("min", B<MinOp>()); yield return ("relu grad", B<ReluGradOp>());
    }

    /// <summary>Translates one kernel to PTX for <paramref name="architecture"/> (no GPU needed) and returns the assembly.</summary>
    internal static string CompilePtx(MethodInfo kernel, bool grouped, CudaArchitecture architecture, CudaInstructionSet isa)
    {
        var backend = new PTXBackend(Context, architecture, isa, null!);
        var entry = grouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel)
            : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
        return compiled.PTXAssembly;
    }
}
