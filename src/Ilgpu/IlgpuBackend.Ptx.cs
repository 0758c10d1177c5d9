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
        yield return ("compare lt", M(ElementwiseKernels.Compare<float, Lt<float>>), false);
        yield return ("where", M(ElementwiseKernels.Where<int>), false);
        yield return ("axpby", M(ElementwiseKernels.Axpby<float>), false);
        yield return ("random", M(ElementwiseKernels.Random<float, F32>), false);
        yield return ("reduce", M(ReduceKernels.Reduce<float>), true);
        yield return ("argreduce", M(ReduceKernels.ArgReduce<float>), true);
        yield return ("softmax", M(ReduceKernels.Softmax<float>), true);
        yield return ("gemm", M(GemmKernels.Gemm<float, StridedMatrix, StridedMatrix, StridedMatrix>), true);
        yield return ("conv forward (implicit gemm)", M(GemmKernels.Gemm<float, ConvWeights, ConvColumns, ConvOutput>), true);
        yield return ("conv backward weight (implicit gemm)", M(GemmKernels.Gemm<float, ConvOutput, ConvColumnsT, ConvWeights>), true);
        yield return ("conv backward input", M(GemmKernels.ConvBackwardInput<float>), false);
        yield return ("max pool", M(PoolIndexKernels.MaxPool<float>), false);
        yield return ("max pool backward", M(PoolIndexKernels.MaxPoolBackward<float>), false);
        yield return ("avg pool", M(PoolIndexKernels.AvgPool<float, F32>), false);
        yield return ("avg pool backward", M(PoolIndexKernels.AvgPoolBackward<float, F32>), false);
        yield return ("index select", M(PoolIndexKernels.IndexSelect<float>), false);
        yield return ("gather", M(PoolIndexKernels.Gather<float>), false);
        yield return ("scatter add", M(PoolIndexKernels.ScatterAdd<float>), false);
    }

    private static IEnumerable<(string, MethodInfo)> UnaryFloat32()
    {
        static MethodInfo U<TOp>() where TOp : struct, IUnaryOp<float> =>
            ((Action<Index1D, ArrayView<float>, Strides6, ArrayView<float>, Strides6, Shape6>)ElementwiseKernels.Unary<float, TOp>).Method;
        yield return ("neg", U<Neg<float>>()); yield return ("exp", U<Exp<float>>()); yield return ("log", U<Log<float>>());
        yield return ("sqrt", U<Sqrt<float>>()); yield return ("abs", U<Abs<float>>()); yield return ("sign", U<Sign<float>>());
        yield return ("tanh", U<Tanh<float>>()); yield return ("sigmoid", U<Sigmoid<float>>()); yield return ("relu", U<Relu<float>>());
        yield return ("erf", U<Erf<float>>()); yield return ("reciprocal", U<Reciprocal<float>>()); yield return ("square", U<Square<float>>());
        yield return ("sin", U<Sin<float>>()); yield return ("cos", U<Cos<float>>()); yield return ("floor", U<Floor<float>>());
        yield return ("ceil", U<Ceil<float>>());
    }

    private static IEnumerable<(string, MethodInfo)> BinaryFloat32()
    {
        static MethodInfo B<TOp>() where TOp : struct, IBinaryOp<float> =>
            ((Action<Index1D, ArrayView<float>, Strides6, ArrayView<float>, Strides6, ArrayView<float>, Strides6, Shape6>)ElementwiseKernels.Binary<float, TOp>).Method;
        yield return ("add", B<Add<float>>()); yield return ("sub", B<Sub<float>>()); yield return ("mul", B<Mul<float>>());
        yield return ("div", B<Div<float>>()); yield return ("pow", B<Pow<float>>()); yield return ("max", B<Max<float>>());
        yield return ("min", B<Min<float>>()); yield return ("relu grad", B<ReluGrad<float>>());
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
