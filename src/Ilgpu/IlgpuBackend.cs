using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Engine.Kernels.Gpu;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Engine.Kernels;

/// <summary>Device memory of an <see cref="IlgpuBackend"/>: one ILGPU byte buffer.</summary>
public sealed class IlgpuBuffer : DeviceBuffer
{
    internal MemoryBuffer1D<byte, Stride1D.Dense>? Memory;
    private readonly long _bytes;
    private readonly object _launch;

    internal IlgpuBuffer(Accelerator accelerator, long bytes, object launch)
    {
        _bytes = bytes;
        _launch = launch;
        Memory = accelerator.Allocate1D<byte>(Math.Max(bytes, 16));
        // Only Dispose frees device memory, never a finalizer: every buffer stays reachable from s_live
        // until it is disposed. A tensor's Storage returns its buffer to the pool from its own finalizer;
        // when storage and buffer became unreachable together, the GC could run ILGPU's buffer finalizer
        // first, and the pool then handed out freed memory (the intermittent NullReferenceException inside
        // ILGPU's CPU copy and launcher).
        s_live.TryAdd(this, 0);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<IlgpuBuffer, byte> s_live = new(ReferenceEqualityComparer.Instance);

    /// <inheritdoc/>
    public override long ByteLength => _bytes;

    /// <summary>The memory as elements of <typeparamref name="T"/>, from the buffer's start.</summary>
    internal ArrayView<T> View<T>() where T : unmanaged =>
        ((ArrayView<byte>)(Memory ?? throw new ObjectDisposedException(nameof(IlgpuBuffer))).View).Cast<T>();

    /// <inheritdoc/>
    public override void Dispose()
    {
        // launches are asynchronous on GPUs: wait for the work queued on the device (one stream, in
        // order) before the memory goes back to the driver. Reuse through the pool needs no wait: the
        // next user's launches queue behind the last one's on the same stream, and host copies synchronize.
        if (Memory is { } memory && !memory.Accelerator.IsDisposed)
            lock (_launch) memory.Accelerator.Synchronize();
        Memory?.Dispose();
        Memory = null;
        s_live.TryRemove(this, out _);
    }
}

/// <summary>
/// The whole <see cref="IBackend"/> as ILGPU kernels: one implementation for CUDA, OpenCL and
/// ILGPU's CPU accelerator. Elementwise kernels take the same struct ops as <see cref="CpuBackend"/>
/// (through the adapters in <c>Ilgpu/Adapters.cs</c>), so no formula is written twice. Kernels are
/// compiled on first use per accelerator and cached; <see cref="WarmUp"/> compiles the common ones
/// up front. Every reduction is a fixed-order tree, so results do not depend on timing.
/// </summary>
public sealed partial class IlgpuBackend : IBackend, IDisposable
{
    private static readonly object s_lock = new();
    private static Context? s_context;
    private static readonly Dictionary<(IlgpuKind, int), IlgpuBackend> s_backends = [];

    private readonly Accelerator _accelerator;
    private readonly ConcurrentDictionary<System.Reflection.MethodInfo, Delegate> _kernels = new();
    private readonly object _launch = new();

    /// <summary>Threads per group in the reduction kernels (a power of two).</summary>
    internal readonly int ReduceGroup;
    /// <summary>Threads per side of a GEMM group (16 on GPUs, 4 on the CPU accelerator).</summary>
    internal readonly int GemmSide;

    private IlgpuBackend(Accelerator accelerator, IlgpuKind kind, int index)
    {
        _accelerator = accelerator;
        Kind = kind;
        Index = index;
        int max = accelerator.MaxNumThreadsPerGroup;
        ReduceGroup = 1;
        while (ReduceGroup * 2 <= Math.Min(max, ReduceKernels.MaxGroup)) ReduceGroup *= 2;
        GemmSide = max >= 256 ? 16 : max >= 64 ? 8 : 4;
    }

    private static Context Context
    {
        get
        {
            lock (s_lock)
                return s_context ??= Context.Create(b =>
                {
                    OpenClLibrary.Resolve();
                    b.Cuda().OpenCL().CPU(new CPUDevice(4, 4, 1)).Math(MathMode.Default).EnableAlgorithms();
                    b.Optimize(OptimizationLevel.O1);
                });
        }
    }

    /// <summary>How many devices of <paramref name="kind"/> this machine has.</summary>
    public static int Count(IlgpuKind kind)
    {
        try
        {
            return kind switch
            {
                IlgpuKind.Cuda => Context.GetCudaDevices().Count,
                IlgpuKind.OpenCL => Context.GetCLDevices().Count,
                _ => 1,
            };
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or InvalidOperationException or NotSupportedException)
        {
            return 0;
        }
    }

    /// <summary>The backend of device <paramref name="index"/> of <paramref name="kind"/>, created on first use.</summary>
    public static IlgpuBackend Get(IlgpuKind kind, int index = 0)
    {
        lock (s_lock)
        {
            if (s_backends.TryGetValue((kind, index), out var backend)) return backend;
            int count = Count(kind);
            if (index < 0 || index >= count)
                throw new InvalidOperationException($"no {KindName(kind)} device {index}: this machine has {count}");
            Accelerator accelerator = kind switch
            {
                IlgpuKind.Cuda => Context.GetCudaDevices()[index].CreateAccelerator(Context),
                IlgpuKind.OpenCL => Context.GetCLDevices()[index].CreateAccelerator(Context),
                _ => Context.GetCPUDevice(0).CreateAccelerator(Context),
            };
            return s_backends[(kind, index)] = new IlgpuBackend(accelerator, kind, index);
        }
    }

    private static string KindName(IlgpuKind kind) => kind switch
    {
        IlgpuKind.Cuda => "cuda",
        IlgpuKind.OpenCL => "opencl",
        _ => "ilgpu-cpu",
    };

    /// <summary>The accelerator's kind.</summary>
    public IlgpuKind Kind { get; }
    /// <summary>The device number within its kind.</summary>
    public int Index { get; }
    /// <summary>The device's own name (e.g. "NVIDIA H200").</summary>
    public string DeviceName => _accelerator.Name;
    /// <summary>The accelerator, for tools that time or inspect it.</summary>
    public Accelerator Accelerator => _accelerator;

    /// <inheritdoc/>
    public string Name => $"{KindName(Kind)}:{Index}";

    /// <inheritdoc/>
    /// <remarks>GPUs: 90 % of the device's memory; the emulator works in host memory.</remarks>
    public long MemoryBudget => Kind == IlgpuKind.Cpu ? long.MaxValue : _accelerator.MemorySize / 10 * 9;

    /// <summary>Waits for every queued kernel.</summary>
    public void Synchronize()
    {
        lock (_launch) _accelerator.Synchronize();
    }

    /// <inheritdoc/>
    public void Dispose() => _accelerator.Dispose();

    internal static Exception Unsupported(string op, DType t) =>
        Errors.DTypeError(op, $"dtype {t.Name()} is not supported by the ilgpu backend");

    // ---- kernel cache ----------------------------------------------------------------------

    /// <summary>
    /// Launches go one at a time per accelerator: an ILGPU stream is not meant for concurrent use from
    /// several threads (test classes, or an application's threads, may share a device). On ILGPU's CPU
    /// accelerator each launch also completes before the next, so an error surfaces at the op that
    /// caused it. GPUs keep asynchronous, stream-ordered launches.
    /// </summary>
    private void AfterLaunch()
    {
        if (Kind == IlgpuKind.Cpu) _accelerator.Synchronize();
    }

    /// <summary>
    /// The kernel <paramref name="kernel"/> as loaded for this accelerator: compiled on first use, then one lookup
    /// (the key is the kernel's method; <paramref name="load"/> is a static lambda, so nothing is allocated per launch).
    /// </summary>
    private TLoaded Loaded<TKernel, TLoaded>(TKernel kernel, Func<Accelerator, TKernel, TLoaded> load)
        where TKernel : Delegate where TLoaded : Delegate
    {
        var method = kernel.Method;
        if (_kernels.TryGetValue(method, out var loaded)) return (TLoaded)loaded;
        lock (_launch) return (TLoaded)_kernels.GetOrAdd(method, load(_accelerator, kernel));
    }

    /// <summary>Launches an auto-grouped kernel over <paramref name="extent"/> indices (loaded once per accelerator).</summary>
    private void Launch<T1, T2>(Action<Index1D, T1, T2> kernel, Index1D extent, T1 a1, T2 a2)
        where T1 : struct where T2 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadAutoGroupedStreamKernel(k));
        lock (_launch) { f(extent, a1, a2); AfterLaunch(); }
    }

    /// <summary>Launches an auto-grouped kernel over <paramref name="extent"/> indices (loaded once per accelerator).</summary>
    private void Launch<T1, T2, T3>(Action<Index1D, T1, T2, T3> kernel, Index1D extent, T1 a1, T2 a2, T3 a3)
        where T1 : struct where T2 : struct where T3 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadAutoGroupedStreamKernel(k));
        lock (_launch) { f(extent, a1, a2, a3); AfterLaunch(); }
    }

    /// <summary>Launches an auto-grouped kernel over <paramref name="extent"/> indices (loaded once per accelerator).</summary>
    private void Launch<T1, T2, T3, T4>(Action<Index1D, T1, T2, T3, T4> kernel, Index1D extent, T1 a1, T2 a2, T3 a3, T4 a4)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadAutoGroupedStreamKernel(k));
        lock (_launch) { f(extent, a1, a2, a3, a4); AfterLaunch(); }
    }

    /// <summary>Launches an auto-grouped kernel over <paramref name="extent"/> indices (loaded once per accelerator).</summary>
    private void Launch<T1, T2, T3, T4, T5>(Action<Index1D, T1, T2, T3, T4, T5> kernel, Index1D extent, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadAutoGroupedStreamKernel(k));
        lock (_launch) { f(extent, a1, a2, a3, a4, a5); AfterLaunch(); }
    }

    /// <summary>Launches an auto-grouped kernel over <paramref name="extent"/> indices (loaded once per accelerator).</summary>
    private void Launch<T1, T2, T3, T4, T5, T6>(Action<Index1D, T1, T2, T3, T4, T5, T6> kernel, Index1D extent, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadAutoGroupedStreamKernel(k));
        lock (_launch) { f(extent, a1, a2, a3, a4, a5, a6); AfterLaunch(); }
    }

    /// <summary>Launches an auto-grouped kernel over <paramref name="extent"/> indices (loaded once per accelerator).</summary>
    private void Launch<T1, T2, T3, T4, T5, T6, T7>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7> kernel, Index1D extent, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadAutoGroupedStreamKernel(k));
        lock (_launch) { f(extent, a1, a2, a3, a4, a5, a6, a7); AfterLaunch(); }
    }

    /// <summary>Launches an auto-grouped kernel over <paramref name="extent"/> indices (loaded once per accelerator).</summary>
    private void Launch<T1, T2, T3, T4, T5, T6, T7, T8>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8> kernel, Index1D extent, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadAutoGroupedStreamKernel(k));
        lock (_launch) { f(extent, a1, a2, a3, a4, a5, a6, a7, a8); AfterLaunch(); }
    }

    /// <summary>Launches an auto-grouped kernel over <paramref name="extent"/> indices (loaded once per accelerator).</summary>
    private void Launch<T1, T2, T3, T4, T5, T6, T7, T8, T9>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9> kernel, Index1D extent, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadAutoGroupedStreamKernel(k));
        lock (_launch) { f(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9); AfterLaunch(); }
    }

    /// <summary>Launches an auto-grouped kernel over <paramref name="extent"/> indices (loaded once per accelerator).</summary>
    private void Launch<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> kernel, Index1D extent, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadAutoGroupedStreamKernel(k));
        lock (_launch) { f(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10); AfterLaunch(); }
    }

    /// <summary>Launches an auto-grouped kernel over <paramref name="extent"/> indices (loaded once per accelerator).</summary>
    private void Launch<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11>(Action<Index1D, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> kernel, Index1D extent, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10, T11 a11)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadAutoGroupedStreamKernel(k));
        lock (_launch) { f(extent, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11); AfterLaunch(); }
    }

    /// <summary>Launches an explicitly grouped kernel (loaded once per accelerator).</summary>
    private void LaunchGrouped<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> kernel, KernelConfig config, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10, T11 a11, T12 a12)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct where T12 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadStreamKernel(k));
        lock (_launch) { f(config, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12); AfterLaunch(); }
    }

    /// <summary>Launches an explicitly grouped kernel (loaded once per accelerator).</summary>
    private void LaunchGrouped<T1, T2, T3, T4, T5, T6, T7, T8, T9>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9> kernel, KernelConfig config, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadStreamKernel(k));
        lock (_launch) { f(config, a1, a2, a3, a4, a5, a6, a7, a8, a9); AfterLaunch(); }
    }

    /// <summary>Launches an explicitly grouped kernel (loaded once per accelerator).</summary>
    private void LaunchGrouped<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> kernel, KernelConfig config, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadStreamKernel(k));
        lock (_launch) { f(config, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10); AfterLaunch(); }
    }

    /// <summary>Launches an explicitly grouped kernel (loaded once per accelerator).</summary>
    private void LaunchGrouped<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11>(Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> kernel, KernelConfig config, T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6, T7 a7, T8 a8, T9 a9, T10 a10, T11 a11)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct where T11 : struct
    {
        var f = Loaded(kernel, static (accelerator, k) => accelerator.LoadStreamKernel(k));
        lock (_launch) { f(config, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11); AfterLaunch(); }
    }

    private static ArrayView<T> V<T>(in BufferView v) where T : unmanaged => ((IlgpuBuffer)v.Buffer).View<T>();

    private static int Elements(string op, long n) =>
        n <= int.MaxValue ? (int)n : throw new NotSupportedException($"{op}: {n} elements; the GPU kernels index at most {int.MaxValue}");

    // ---- memory ----------------------------------------------------------------------------

    /// <inheritdoc/>
    public DeviceBuffer Allocate(long bytes)
    {
        lock (_launch) return new IlgpuBuffer(_accelerator, bytes, _launch);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// ILGPU's host copies turn the reference they are given into a raw address (for the CPU
    /// accelerator's memmove, for OpenCL's enqueued write): a managed array must stay pinned meanwhile,
    /// or a garbage collection that compacts the heap (any thread's) moves it and the copy reads
    /// or writes wherever it was. Unpinned, this gave the sporadic zeros, NaNs and access violations
    /// seen only under parallel tests.
    /// </remarks>
    public unsafe void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer destination, long offset) where T : unmanaged
    {
        if (source.IsEmpty) return;
        var bytes = MemoryMarshal.AsBytes(source);
        long at = offset * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var view = ((ArrayView<byte>)((IlgpuBuffer)destination).Memory!.View).SubView(at, bytes.Length);
        fixed (byte* pinned = bytes)
            lock (_launch)
            {
                _accelerator.Synchronize();
                view.CopyFromCPU(ref *pinned, bytes.Length);
                // the copy may be queued (it is on OpenCL): the pinned memory must not be released before it ran
                _accelerator.Synchronize();
            }
    }

    /// <inheritdoc/>
    /// <remarks>The host memory is pinned for the copy, as in <see cref="Upload{T}"/>.</remarks>
    public unsafe void Download<T>(DeviceBuffer source, long offset, Span<T> destination) where T : unmanaged
    {
        if (destination.IsEmpty) return;
        var bytes = MemoryMarshal.AsBytes(destination);
        long at = offset * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var view = ((ArrayView<byte>)((IlgpuBuffer)source).Memory!.View).SubView(at, bytes.Length);
        fixed (byte* pinned = bytes)
            lock (_launch)
            {
                _accelerator.Synchronize();
                view.CopyToCPU(ref *pinned, bytes.Length);
                // the copy may be queued: the caller reads the host memory as soon as this returns
                _accelerator.Synchronize();
            }
    }

    // ---- fill, copy ---------------------------------------------------------------------------

    /// <inheritdoc/>
    public void Fill(DType dtype, double value, in BufferView y)
    {
        int n = Elements("Fill", y.Layout.Numel);
        if (n == 0) return;
        var (shape, s) = Strided.Plan("Fill", y.Shape, y.Layout);
        switch (dtype)
        {
            case DType.Float32: Launch<ArrayView<float>, Strides6, Shape6, float>(ElementwiseKernels.Fill, n, V<float>(y), s[0], shape, (float)value); break;
            case DType.Float64: Launch<ArrayView<double>, Strides6, Shape6, double>(ElementwiseKernels.Fill, n, V<double>(y), s[0], shape, value); break;
            case DType.Int32: Launch<ArrayView<int>, Strides6, Shape6, int>(ElementwiseKernels.Fill, n, V<int>(y), s[0], shape, (int)value); break;
            case DType.Int64: Launch<ArrayView<long>, Strides6, Shape6, long>(ElementwiseKernels.Fill, n, V<long>(y), s[0], shape, (long)value); break;
            case DType.Bool: Launch<ArrayView<byte>, Strides6, Shape6, byte>(ElementwiseKernels.Fill, n, V<byte>(y), s[0], shape, value != 0 ? (byte)1 : (byte)0); break;
            default: throw Unsupported("Fill", dtype);
        }
    }

    /// <inheritdoc/>
    public void Copy(DType xType, in BufferView x, DType yType, in BufferView y)
    {
        int n = Elements("Copy", y.Layout.Numel);
        if (n == 0) return;
        var (shape, s) = Strided.Plan("Copy", y.Shape, x.Layout, y.Layout);
        if (xType == yType)
        {
            switch (xType.SizeOf())
            {
                case 1: Launch<ArrayView<byte>, Strides6, ArrayView<byte>, Strides6, Shape6>(ElementwiseKernels.Copy, n, V<byte>(x), s[0], V<byte>(y), s[1], shape); break;
                case 4: Launch<ArrayView<int>, Strides6, ArrayView<int>, Strides6, Shape6>(ElementwiseKernels.Copy, n, V<int>(x), s[0], V<int>(y), s[1], shape); break;
                default: Launch<ArrayView<long>, Strides6, ArrayView<long>, Strides6, Shape6>(ElementwiseKernels.Copy, n, V<long>(x), s[0], V<long>(y), s[1], shape); break;
            }
            return;
        }
        switch (xType)
        {
            case DType.Float32: CastFrom<float, F32>(n, x, yType, y, shape, s); break;
            case DType.Float64: CastFrom<double, F64>(n, x, yType, y, shape, s); break;
            case DType.Int32: CastFrom<int, I32>(n, x, yType, y, shape, s); break;
            case DType.Int64: CastFrom<long, I64>(n, x, yType, y, shape, s); break;
            case DType.Bool: CastFrom<byte, B8>(n, x, yType, y, shape, s); break;
            default: throw Unsupported("Copy", xType);
        }
    }

    private void CastFrom<TA, CA>(int n, in BufferView x, DType yType, in BufferView y, Shape6 shape, Strides6[] s)
        where TA : unmanaged where CA : struct, IElem<TA>
    {
        switch (yType)
        {
            case DType.Float32: CastTo<TA, CA, float, F32>(n, x, y, shape, s); break;
            case DType.Float64: CastTo<TA, CA, double, F64>(n, x, y, shape, s); break;
            case DType.Int32: CastTo<TA, CA, int, I32>(n, x, y, shape, s); break;
            case DType.Int64: CastTo<TA, CA, long, I64>(n, x, y, shape, s); break;
            case DType.Bool: CastTo<TA, CA, byte, B8>(n, x, y, shape, s); break;
            default: throw Unsupported("Copy", yType);
        }
    }

    private void CastTo<TA, CA, TY, CY>(int n, in BufferView x, in BufferView y, Shape6 shape, Strides6[] s)
        where TA : unmanaged where CA : struct, IElem<TA> where TY : unmanaged where CY : struct, IElem<TY> =>
        Launch<ArrayView<TA>, Strides6, ArrayView<TY>, Strides6, Shape6>(ElementwiseKernels.Cast<TA, CA, TY, CY>, n, V<TA>(x), s[0], V<TY>(y), s[1], shape);

    // ---- unary, binary, compare, where, axpby --------------------------------------------------

    /// <inheritdoc/>
    public void Unary(UnaryOp op, DType dtype, in BufferView x, in BufferView y)
    {
        if (!UnaryOps.Run(op, dtype, new Runner(this, x, default, y))) throw Unsupported(op.ToString(), dtype);
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, DType dtype, in BufferView a, in BufferView b, in BufferView y)
    {
        if (!BinaryOps.Run(op, dtype, new Runner(this, a, b, y))) throw Unsupported(op.ToString(), dtype);
    }

    /// <inheritdoc/>
    public void Compare(CompareOp op, DType dtype, in BufferView a, in BufferView b, in BufferView y)
    {
        if (!CompareOps.Run(op, dtype, new Runner(this, a, b, y))) throw Unsupported(op.ToString(), dtype);
    }

    /// <summary>The GPU's runner: one op struct at one element type, launched as one thread per output element.</summary>
    private readonly struct Runner(IlgpuBackend backend, BufferView a, BufferView b, BufferView y) : IUnaryRunner, IBinaryRunner, ICompareRunner
    {
        public void Run<TOp, T>(long cost) where TOp : struct, IUnaryOp<T> where T : unmanaged
        {
            if (backend.Plan("Unary", y, out var shape, out var s, a.Layout, y.Layout))
                backend.Launch<ArrayView<T>, Strides6, ArrayView<T>, Strides6, Shape6>(ElementwiseKernels.Unary<T, TOp>,
                    (int)y.Layout.Numel, V<T>(a), s[0], V<T>(y), s[1], shape);
        }

        void IBinaryRunner.Run<TOp, T>(long cost)
        {
            if (backend.Plan("Binary", y, out var shape, out var s, a.Layout, b.Layout, y.Layout))
                backend.Launch<ArrayView<T>, Strides6, ArrayView<T>, Strides6, ArrayView<T>, Strides6, Shape6>(ElementwiseKernels.Binary<T, TOp>,
                    (int)y.Layout.Numel, V<T>(a), s[0], V<T>(b), s[1], V<T>(y), s[2], shape);
        }

        public void Run<TOp, T>() where TOp : struct, ICompareOp<T> where T : unmanaged
        {
            if (backend.Plan("Compare", y, out var shape, out var s, a.Layout, b.Layout, y.Layout))
                backend.Launch<ArrayView<T>, Strides6, ArrayView<T>, Strides6, ArrayView<byte>, Strides6, Shape6>(ElementwiseKernels.Compare<T, TOp>,
                    (int)y.Layout.Numel, V<T>(a), s[0], V<T>(b), s[1], V<byte>(y), s[2], shape);
        }
    }

    /// <summary>The launch plan of an elementwise op over <paramref name="y"/>; false when y is empty (nothing to launch).</summary>
    private bool Plan(string op, in BufferView y, out Shape6 shape, out Strides6[] strides, params Layout[] layouts)
    {
        Elements(op, y.Layout.Numel);
        (shape, strides) = y.Layout.Numel == 0 ? (default, []) : Strided.Plan(op, y.Shape, layouts);
        return y.Layout.Numel > 0;
    }

    /// <inheritdoc/>
    public void Axpby(DType dtype, double alpha, in BufferView x, double beta, in BufferView y)
    {
        int n = Elements("Axpby", y.Layout.Numel);
        if (n == 0) return;
        var (shape, s) = Strided.Plan("Axpby", y.Shape, x.Layout, y.Layout);
        if (dtype == DType.Float32)
            Launch<ArrayView<float>, Strides6, ArrayView<float>, Strides6, Shape6, float, float>(ElementwiseKernels.Axpby<float>,
                n, V<float>(x), s[0], V<float>(y), s[1], shape, (float)alpha, (float)beta);
        else if (dtype == DType.Float64)
            Launch<ArrayView<double>, Strides6, ArrayView<double>, Strides6, Shape6, double, double>(ElementwiseKernels.Axpby<double>,
                n, V<double>(x), s[0], V<double>(y), s[1], shape, alpha, beta);
        else throw Unsupported("Axpby", dtype);
    }

    /// <inheritdoc/>
    public void Where(DType dtype, in BufferView condition, in BufferView a, in BufferView b, in BufferView y)
    {
        switch (dtype.SizeOf())
        {
            case 1: WhereT<byte>(condition, a, b, y); break;
            case 4: WhereT<int>(condition, a, b, y); break;
            case 8: WhereT<long>(condition, a, b, y); break;
            default: throw Unsupported("Where", dtype);
        }
    }

    private void WhereT<T>(in BufferView c, in BufferView a, in BufferView b, in BufferView y) where T : unmanaged
    {
        int n = Elements("Where", y.Layout.Numel);
        if (n == 0) return;
        var (shape, s) = Strided.Plan("Where", y.Shape, c.Layout, a.Layout, b.Layout, y.Layout);
        Launch<ArrayView<byte>, Strides6, ArrayView<T>, Strides6, ArrayView<T>, Strides6, ArrayView<T>, Strides6, Shape6>(ElementwiseKernels.Where,
            n, V<byte>(c), s[0], V<T>(a), s[1], V<T>(b), s[2], V<T>(y), s[3], shape);
    }

    // ---- random -----------------------------------------------------------------------------

    /// <inheritdoc/>
    public void Random(RandomDistribution distribution, DType dtype, ulong seed, ulong offset, double a, double b, in BufferView y)
    {
        int n = Elements("Random", y.Layout.Numel);
        if (n == 0) return;
        int dist = distribution switch { RandomDistribution.Uniform => 0, RandomDistribution.Normal => 1, _ => 2 };
        long low = (long)a;
        ulong range = dist == 2 ? (ulong)((long)b - (long)a) : 1;
        long at = y.Layout.Offset;
        switch (dtype)
        {
            case DType.Float32: RandomRun<float, F32>(n, y, at, dist, seed, offset, a, b, low, range, 1); break;
            case DType.Float64: RandomRun<double, F64>(n, y, at, dist, seed, offset, a, b, low, range, 0); break;
            case DType.Int32: RandomRun<int, I32>(n, y, at, dist, seed, offset, a, b, low, range, 0); break;
            case DType.Int64: RandomRun<long, I64>(n, y, at, dist, seed, offset, a, b, low, range, 0); break;
            default: throw Unsupported("Random", dtype);
        }
    }

    private void RandomRun<T, C>(int n, in BufferView y, long at, int dist, ulong seed, ulong offset, double a, double b, long low, ulong range, int single)
        where T : unmanaged where C : struct, IElem<T> =>
        Launch(ElementwiseKernels.Random<T, C>, n, V<T>(y), new RandomParams
        {
            Offset = at, Distribution = dist, Seed = seed, Start = offset, A = a, B = b, Low = low, Range = range, Single = single,
        });
}

/// <summary>
/// ILGPU opens <c>libOpenCL.so</c>, but Debian's ICD loader (ocl-icd-libopencl1) ships only
/// <c>libOpenCL.so.1</c> (the unversioned name comes with the -dev package). This maps the
/// unversioned name to the versioned file so an installed OpenCL runtime is found.
/// </summary>
internal static class OpenClLibrary
{
    private static int s_done;

    public static void Resolve()
    {
        if (Interlocked.Exchange(ref s_done, 1) != 0 || !OperatingSystem.IsLinux()) return;
        var ilgpu = typeof(Context).Assembly;
        try
        {
            NativeLibrary.SetDllImportResolver(ilgpu, (name, assembly, path) =>
            {
                if (name.Contains("OpenCL", StringComparison.OrdinalIgnoreCase))
                    foreach (var candidate in new[] { "libOpenCL.so", "libOpenCL.so.1" })
                        if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
                return IntPtr.Zero;
            });
        }
        catch (InvalidOperationException)
        {
            // a resolver is already set for ILGPU's assembly (by the host application): keep it
        }
        QuietPoclCompiler();
    }

    /// <summary>
    /// PoCL (the OpenCL driver for CPUs) builds each kernel with clang, which writes its warnings
    /// ("1 warning generated.") to the application's error output. Unless the user set PoCL's extra
    /// build flags, ask for none (<c>-w</c>); other drivers ignore the variable. It must be in the
    /// native environment, which <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not
    /// reach on Unix, so libc's <c>setenv</c> is called.
    /// </summary>
    private static unsafe void QuietPoclCompiler()
    {
        const string name = "POCL_EXTRA_BUILD_FLAGS";
        if (Environment.GetEnvironmentVariable(name) is not null) return;
        if (!NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "setenv", out var setenv)) return;
        fixed (byte* key = "POCL_EXTRA_BUILD_FLAGS\0"u8, value = "-w\0"u8)
            ((delegate* unmanaged<byte*, byte*, int, int>)setenv)(key, value, 0);
    }
}
