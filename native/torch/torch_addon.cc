// inferdb's TORCH backend addon: a thin N-API layer (node-addon-api) over Debian's libtorch 1.13 (CPU).
//
// Every call is synchronous and may block for as long as libtorch runs: the addon is loaded and called only
// inside backend worker threads (src/backends/torch.ts, src/backends/worker.ts), never on the main thread.
// Tensors cross as { dtype, shape, data: Uint8Array } in RedisAI's layout (row-major, little-endian, packed);
// outputs are copied into fresh ArrayBuffers the caller owns (and may transfer).
//
// Exports:
//   version(): string
//   setThreads(intra: number, inter: number): void          at::set_num_threads / set_num_interop_threads
//   loadModule(bytes: Uint8Array): { handle, inputs: string[], inputTypes: string[], outputs: number }
//   runModule(handle, inputs: Tensor[]): (Tensor | null)[]  forward(); a tuple is flattened, non-tensors -> null
//   compileScript(source: string): handle                   every function compiled now (errors at store time)
//   scriptFunction(handle, name): string[] | null           the function's parameter types, null if missing
//   runScript(handle, fn, inputs, keys, args, variadic, runCommand?): Tensor[] | null
//       entry points get (tensors: List[Tensor], keys: List[str], args: List[str]); other functions get their
//       Tensor / List[Tensor] parameters positionally (deprecated SCRIPTRUN, `variadic` = index of the `$`
//       tail or -1). Answers the flattened tensors returned (None -> []), or null when something else came back.
//       `redis.execute(cmd, args...)` in the script calls runCommand([cmd, ...args]) (synchronously, on this
//       thread; it blocks until the main thread answered) and converts its reply (None, int, str, list);
//       a reply { error } raises `Redis command returned an error: <msg>`. `redis.asList(x)` makes a list.
//       `redisAI.model_execute(key, tensors, n)` calls runCommand({ model, inputs, outputs }) and answers the
//       tensors it returns (or raises its { error }).
// Errors are thrown as JS Errors carrying libtorch's message (without its C++ backtrace).

#include <napi.h>

#include <torch/script.h>
#include <torch/version.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>
#include <ATen/Parallel.h>

#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using torch::jit::IValue;

// ------------------------------------------------------------------------------------------------ dtypes

bool dtypeFromName(const std::string& n, at::ScalarType* out) {
  static const std::unordered_map<std::string, at::ScalarType> m = {
      {"FLOAT", at::kFloat}, {"DOUBLE", at::kDouble}, {"INT8", at::kChar},  {"INT16", at::kShort},
      {"INT32", at::kInt},   {"INT64", at::kLong},    {"UINT8", at::kByte}, {"BOOL", at::kBool},
  };
  auto it = m.find(n);
  if (it == m.end()) return false;
  *out = it->second;
  return true;
}

const char* dtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "FLOAT";
    case at::kDouble: return "DOUBLE";
    case at::kChar: return "INT8";
    case at::kShort: return "INT16";
    case at::kInt: return "INT32";
    case at::kLong: return "INT64";
    case at::kByte: return "UINT8";
    case at::kBool: return "BOOL";
    default: return nullptr;
  }
}

at::Tensor toTorch(const Napi::Value& v) {
  Napi::Object o = v.As<Napi::Object>();
  std::string dt = o.Get("dtype").As<Napi::String>().Utf8Value();
  at::ScalarType st;
  if (!dtypeFromName(dt, &st)) throw std::runtime_error("ERR unsupported tensor type for the TORCH backend: " + dt);
  Napi::Array shape = o.Get("shape").As<Napi::Array>();
  std::vector<int64_t> dims;
  for (uint32_t i = 0; i < shape.Length(); i++) dims.push_back(shape.Get(i).As<Napi::Number>().Int64Value());
  Napi::Uint8Array data = o.Get("data").As<Napi::Uint8Array>();
  // a copy: the tensor must not alias JS memory once the call returns (outputs may be views of inputs)
  at::Tensor t = torch::empty(dims, torch::TensorOptions().dtype(st));
  size_t n = t.numel() * t.element_size();
  if (n != data.ByteLength()) throw std::runtime_error("ERR data length does not match tensor shape and type");
  if (n > 0) std::memcpy(t.data_ptr(), data.Data(), n);
  return t;
}

Napi::Value fromTorch(Napi::Env env, at::Tensor t) {
  if (t.device().type() != at::kCPU) t = t.to(at::kCPU);
  const char* name = dtypeName(t.scalar_type());
  if (name == nullptr) {
    throw std::runtime_error(std::string("ERR unsupported output tensor type ") + c10::toString(t.scalar_type()));
  }
  t = t.contiguous();
  Napi::Object o = Napi::Object::New(env);
  o.Set("dtype", name);
  Napi::Array shape = Napi::Array::New(env, t.dim());
  for (int64_t i = 0; i < t.dim(); i++) shape.Set(uint32_t(i), Napi::Number::New(env, double(t.size(i))));
  o.Set("shape", shape);
  size_t n = t.numel() * t.element_size();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, n);
  if (n > 0) std::memcpy(buf.Data(), t.data_ptr(), n);
  o.Set("data", Napi::Uint8Array::New(env, n, buf, 0));
  return o;
}

/** Tensors in a returned value: a tensor, a list or tuple of them (nested), None (nothing). */
bool flatten(const IValue& v, std::vector<at::Tensor>& out) {
  if (v.isNone()) return true;
  if (v.isTensor()) {
    out.push_back(v.toTensor());
    return true;
  }
  if (v.isTensorList()) {
    for (const at::Tensor& t : v.toTensorVector()) out.push_back(t);
    return true;
  }
  if (v.isTuple()) {
    for (const IValue& e : v.toTupleRef().elements()) {
      if (e.isNone() || !flatten(e, out)) return false;
    }
    return true;
  }
  if (v.isList()) {
    for (const IValue& e : v.toListRef()) {
      if (e.isNone() || !flatten(e, out)) return false;
    }
    return true;
  }
  return false;
}

std::string errorText(const c10::Error& e) { return e.what_without_backtrace(); }

// -------------------------------------------------------------------------------------- handles (externals)

struct ModuleHandle {
  torch::jit::Module module;
};

struct ScriptHandle {
  std::shared_ptr<torch::jit::CompilationUnit> cu;
};

template <typename T>
T* unwrap(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), std::string("expected a ") + what + " handle");
  return v.As<Napi::External<T>>().Data();
}

// ------------------------------------------------------------------------- redis.execute from TorchScript

/**
 * The JS function that runs a Redis command for the script running on this thread (set by RunScript for the
 * duration of the call). It blocks this worker thread until the main thread has run the command, and answers
 * the reply as null | number | bigint | string | array | { error: string }.
 */
struct CallContext {
  Napi::Env env;
  Napi::Function run;
};
thread_local CallContext* currentCall = nullptr;

IValue replyToIValue(const Napi::Value& v) {
  if (v.IsNull() || v.IsUndefined()) return IValue();
  if (v.IsNumber()) return IValue(v.As<Napi::Number>().Int64Value());
  if (v.IsBigInt()) {
    bool lossless;
    return IValue(v.As<Napi::BigInt>().Int64Value(&lossless));
  }
  if (v.IsString()) return IValue(v.As<Napi::String>().Utf8Value());
  if (v.IsArray()) {
    Napi::Array a = v.As<Napi::Array>();
    c10::impl::GenericList l(c10::AnyType::get());
    for (uint32_t i = 0; i < a.Length(); i++) l.push_back(replyToIValue(a.Get(i)));
    return IValue(l);
  }
  if (v.IsObject() && v.As<Napi::Object>().Has("error")) {
    throw std::runtime_error("Redis command returned an error: " + v.As<Napi::Object>().Get("error").ToString().Utf8Value());
  }
  throw std::runtime_error("unexpected reply type from redis.execute");
}

IValue redisExecute(std::string cmd, c10::List<std::string> args) {
  if (currentCall == nullptr) throw std::runtime_error("redis.execute is only available while a script runs");
  Napi::Env env = currentCall->env;
  Napi::Array argv = Napi::Array::New(env, args.size() + 1);
  argv.Set(uint32_t(0), cmd);
  for (size_t i = 0; i < args.size(); i++) argv.Set(uint32_t(i + 1), std::string(args.get(i)));
  Napi::Value r;
  try {
    r = currentCall->run.Call({argv});
  } catch (const Napi::Error& e) {
    throw std::runtime_error(e.Message());
  }
  return replyToIValue(r);
}

c10::List<IValue> redisAsList(IValue v) {
  if (v.isList()) return v.toList();
  c10::impl::GenericList l(c10::AnyType::get());
  if (!v.isNone()) l.push_back(v);
  return l;
}

/**
 * redisAI.model_execute(key, tensors, n): runs the model stored at `key` through the same JS callback (the
 * main thread runs it in a backend worker of its own) and answers its outputs. Errors (`ERR model key is
 * empty`, the backend's) are raised as they come.
 */
c10::List<at::Tensor> modelExecute(std::string key, c10::List<at::Tensor> inputs, int64_t noutputs) {
  if (currentCall == nullptr) throw std::runtime_error("redisAI.model_execute is only available while a script runs");
  Napi::Env env = currentCall->env;
  Napi::Object req = Napi::Object::New(env);
  req.Set("model", key);
  Napi::Array arr = Napi::Array::New(env, inputs.size());
  for (size_t i = 0; i < inputs.size(); i++) arr.Set(uint32_t(i), fromTorch(env, inputs.get(i)));
  req.Set("inputs", arr);
  req.Set("outputs", Napi::Number::New(env, double(noutputs)));
  Napi::Value r;
  try {
    r = currentCall->run.Call({req});
  } catch (const Napi::Error& e) {
    throw std::runtime_error(e.Message());
  }
  if (r.IsObject() && !r.IsArray() && r.As<Napi::Object>().Has("error")) {
    throw std::runtime_error(r.As<Napi::Object>().Get("error").ToString().Utf8Value());
  }
  if (!r.IsArray()) throw std::runtime_error("unexpected reply from redisAI.model_execute");
  Napi::Array outs = r.As<Napi::Array>();
  c10::List<at::Tensor> l;
  for (uint32_t i = 0; i < outs.Length(); i++) l.push_back(toTorch(outs.Get(i)));
  return l;
}

IValue redisExecuteNoArgs(std::string cmd) { return redisExecute(std::move(cmd), c10::List<std::string>()); }

/**
 * Registers redis::execute / redis::asList once per process (the addon may be loaded by several worker
 * threads). redis.execute(cmd, *args) packs its trailing str arguments into `args` (TorchScript's
 * varargs-as-list); the `.cmd` overload takes a command without arguments.
 */
void registerRedisOps() {
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      static auto registry = new torch::RegisterOperators(
          torch::RegisterOperators()
              .op("redis::execute(str cmd, str[] args) -> Any", &redisExecute)
              .op("redis::execute.cmd(str cmd) -> Any", &redisExecuteNoArgs)
              .op("redis::asList(Any x) -> Any[]", &redisAsList)
              .op("redisAI::model_execute(str key, Tensor[] inputs, int noutputs) -> Tensor[]", &modelExecute));
      (void)registry;
    } catch (const std::exception&) {
      // scripts calling redis.execute then fail to compile with libtorch's "unknown builtin op"
    }
  });
}

// ---------------------------------------------------------------------------------------- script resolver

/**
 * `torch` as in NativeResolver (aten builtins), plus the dtype constants (torch.float32, torch.int64 ...) that
 * the Python frontend would resolve: the C++ compiler alone cannot see them.
 */
struct TorchModuleValue : public torch::jit::BuiltinModule {
  TorchModuleValue() : BuiltinModule("aten") {}
  std::shared_ptr<torch::jit::SugaredValue> attr(const torch::jit::SourceRange& loc, torch::jit::GraphFunction& m,
                                                 const std::string& field) override {
    static const std::unordered_map<std::string, at::ScalarType> dtypes = {
        {"float", at::kFloat},     {"float32", at::kFloat},  {"double", at::kDouble},   {"float64", at::kDouble},
        {"half", at::kHalf},       {"float16", at::kHalf},   {"bfloat16", at::kBFloat16},
        {"uint8", at::kByte},      {"int8", at::kChar},      {"int16", at::kShort},     {"short", at::kShort},
        {"int32", at::kInt},       {"int", at::kInt},        {"int64", at::kLong},      {"long", at::kLong},
        {"bool", at::kBool},       {"complex64", at::kComplexFloat}, {"complex128", at::kComplexDouble},
    };
    auto it = dtypes.find(field);
    if (it != dtypes.end()) {
      return std::make_shared<torch::jit::SimpleValue>(m.graph()->insertConstant(IValue(it->second), loc));
    }
    return BuiltinModule::attr(loc, m, field);
  }
};

struct ScriptResolver : public torch::jit::Resolver {
  std::shared_ptr<torch::jit::SugaredValue> resolveValue(const std::string& name, torch::jit::GraphFunction& m,
                                                         const torch::jit::SourceRange& loc) override {
    if (name == "torch") return std::make_shared<TorchModuleValue>();
    if (name == "redis") return std::make_shared<torch::jit::BuiltinModule>("redis");
    if (name == "redisAI") return std::make_shared<torch::jit::BuiltinModule>("redisAI");
    return nullptr;
  }
  torch::jit::TypePtr resolveType(const std::string& name, const torch::jit::SourceRange& loc) override {
    return nullptr;
  }
};

// ---------------------------------------------------------------------------------------------- exports

Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), TORCH_VERSION); }

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int intra = info[0].As<Napi::Number>().Int32Value();
  int inter = info[1].As<Napi::Number>().Int32Value();
  if (intra > 0) at::set_num_threads(intra);
  if (inter > 0) {
    try {
      at::set_num_interop_threads(inter);  // allowed once per process, before inter-op work started
    } catch (const c10::Error&) {
    }
  }
  return info.Env().Undefined();
}

Napi::Value LoadModule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  auto h = std::make_unique<ModuleHandle>();
  try {
    std::istringstream in(std::string(reinterpret_cast<const char*>(bytes.Data()), bytes.ByteLength()));
    h->module = torch::jit::load(in, torch::kCPU);
    h->module.eval();
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, errorText(e));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  Napi::Object r = Napi::Object::New(env);
  Napi::Array names = Napi::Array::New(env);
  Napi::Array types = Napi::Array::New(env);
  uint32_t noutputs = 1;
  try {
    const c10::FunctionSchema& schema = h->module.get_method("forward").function().getSchema();
    uint32_t k = 0;
    for (size_t i = 1; i < schema.arguments().size(); i++) {  // 0 is self
      names.Set(k, schema.arguments()[i].name());
      types.Set(k++, schema.arguments()[i].type()->annotation_str());
    }
    if (!schema.returns().empty()) {
      auto tuple = schema.returns()[0].type()->cast<c10::TupleType>();
      if (tuple) noutputs = uint32_t(tuple->elements().size());
    }
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, errorText(e));
  }
  ModuleHandle* raw = h.release();
  r.Set("handle", Napi::External<ModuleHandle>::New(env, raw, [](Napi::Env, ModuleHandle* p) { delete p; }));
  r.Set("inputs", names);
  r.Set("inputTypes", types);
  r.Set("outputs", Napi::Number::New(env, noutputs));
  return r;
}

Napi::Value RunModule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ModuleHandle* h = unwrap<ModuleHandle>(info[0], "module");
  Napi::Array in = info[1].As<Napi::Array>();
  std::vector<at::Tensor> outs;
  std::vector<bool> isTensor;
  try {
    std::vector<at::Tensor> tensors;
    for (uint32_t i = 0; i < in.Length(); i++) tensors.push_back(toTorch(in.Get(i)));
    c10::InferenceMode guard;
    const c10::FunctionSchema& schema = h->module.get_method("forward").function().getSchema();
    const auto& args = schema.arguments();
    std::vector<IValue> stack;
    size_t pos = 0;
    for (size_t i = 1; i < args.size(); i++) {
      auto list = args[i].type()->cast<c10::ListType>();
      if (list && list->getElementType()->kind() == c10::TypeKind::TensorType) {
        // a List[Tensor] parameter: the last one takes every remaining input, another one takes one
        size_t take = (i + 1 == args.size()) ? (tensors.size() > pos ? tensors.size() - pos : 0) : 1;
        c10::List<at::Tensor> l;
        for (size_t k = 0; k < take && pos < tensors.size(); k++) l.push_back(tensors[pos++]);
        stack.emplace_back(l);
      } else if (pos < tensors.size()) {
        stack.emplace_back(tensors[pos++]);
      }
    }
    IValue result = h->module.forward(stack);
    if (result.isTuple()) {
      for (const IValue& e : result.toTupleRef().elements()) {
        isTensor.push_back(e.isTensor());
        outs.push_back(e.isTensor() ? e.toTensor() : at::Tensor());
      }
    } else if (result.isTensor()) {
      outs.push_back(result.toTensor());
      isTensor.push_back(true);
    } else {
      std::vector<at::Tensor> flat;
      if (!flatten(result, flat)) throw std::runtime_error("ERR model returned a value that is not a tensor");
      for (auto& t : flat) {
        outs.push_back(t);
        isTensor.push_back(true);
      }
    }
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, errorText(e));
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  Napi::Array r = Napi::Array::New(env, outs.size());
  try {
    for (size_t i = 0; i < outs.size(); i++) r.Set(uint32_t(i), isTensor[i] ? fromTorch(env, outs[i]) : env.Null());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  return r;
}

Napi::Value CompileScript(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string source = info[0].As<Napi::String>().Utf8Value();
  auto h = std::make_unique<ScriptHandle>();
  try {
    h->cu = std::make_shared<torch::jit::CompilationUnit>();
    h->cu->define(c10::nullopt, source, std::make_shared<ScriptResolver>(), nullptr);
    // libtorch compiles function bodies lazily: force them now so errors surface at store time
    for (torch::jit::Function* f : h->cu->get_functions()) f->ensure_defined();
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, errorText(e));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  ScriptHandle* raw = h.release();
  return Napi::External<ScriptHandle>::New(env, raw, [](Napi::Env, ScriptHandle* p) { delete p; });
}

// c10::QualifiedName throws (an uncaught c10::Error aborts the process) for "" and for names with an empty
// dotted part ("a..b", ".a"): such names are simply not found (found by bench/fuzz.mjs)
torch::jit::Function* findFunction(ScriptHandle* h, const std::string& name) {
  try {
    return h->cu->find_function(c10::QualifiedName(name));
  } catch (const c10::Error&) {
    return nullptr;
  }
}

Napi::Value ScriptFunction(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ScriptHandle* h = unwrap<ScriptHandle>(info[0], "script");
  std::string name = info[1].As<Napi::String>().Utf8Value();
  torch::jit::Function* f = findFunction(h, name);
  if (f == nullptr) return env.Null();
  const auto& args = f->getSchema().arguments();
  Napi::Array types = Napi::Array::New(env, args.size());
  for (size_t i = 0; i < args.size(); i++) types.Set(uint32_t(i), args[i].type()->annotation_str());
  return types;
}

bool isList(const c10::TypePtr& t, c10::TypeKind element) {
  auto l = t->cast<c10::ListType>();
  return l && l->getElementType()->kind() == element;
}

Napi::Value RunScript(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ScriptHandle* h = unwrap<ScriptHandle>(info[0], "script");
  std::string name = info[1].As<Napi::String>().Utf8Value();
  Napi::Array in = info[2].As<Napi::Array>();
  Napi::Array keysArr = info[3].As<Napi::Array>();
  Napi::Array argsArr = info[4].As<Napi::Array>();
  int64_t variadic = info[5].As<Napi::Number>().Int64Value();
  torch::jit::Function* f = findFunction(h, name);
  if (f == nullptr) throw Napi::Error::New(env, "Function does not exist: " + name);
  std::vector<at::Tensor> flat;
  bool tensors = false;
  try {
    std::vector<at::Tensor> inputs;
    for (uint32_t i = 0; i < in.Length(); i++) inputs.push_back(toTorch(in.Get(i)));
    c10::List<std::string> keys, args;
    for (uint32_t i = 0; i < keysArr.Length(); i++) keys.push_back(keysArr.Get(i).As<Napi::String>().Utf8Value());
    for (uint32_t i = 0; i < argsArr.Length(); i++) args.push_back(argsArr.Get(i).As<Napi::String>().Utf8Value());
    c10::InferenceMode guard;
    const auto& params = f->getSchema().arguments();
    std::vector<IValue> stack;
    bool entryPoint = params.size() == 3 && isList(params[0].type(), c10::TypeKind::TensorType) &&
                      isList(params[1].type(), c10::TypeKind::StringType) &&
                      isList(params[2].type(), c10::TypeKind::StringType);
    if (entryPoint) {
      c10::List<at::Tensor> l;
      for (auto& t : inputs) l.push_back(t);
      stack.emplace_back(l);
      stack.emplace_back(keys);
      stack.emplace_back(args);
    } else {
      // best effort, as RedisAI's deprecated SCRIPTRUN: Tensor parameters take the inputs in order, a
      // List[Tensor] parameter takes the `$` tail (or every remaining input)
      size_t fixedEnd = variadic >= 0 ? size_t(variadic) : inputs.size();
      size_t pos = 0;
      for (const auto& p : params) {
        if (isList(p.type(), c10::TypeKind::TensorType)) {
          c10::List<at::Tensor> l;
          size_t from = variadic >= 0 ? size_t(variadic) : pos;
          for (size_t k = from; k < inputs.size(); k++) l.push_back(inputs[k]);
          if (variadic < 0) pos = inputs.size();
          stack.emplace_back(l);
        } else if (pos < fixedEnd) {
          stack.emplace_back(inputs[pos++]);
        } else {
          throw std::runtime_error("Wrong number of inputs provided to function " + name);
        }
      }
    }
    CallContext ctx{env, info[6].IsFunction() ? info[6].As<Napi::Function>() : Napi::Function()};
    CallContext* saved = currentCall;
    currentCall = info[6].IsFunction() ? &ctx : nullptr;
    IValue result;
    try {
      result = (*f)(stack);
    } catch (...) {
      currentCall = saved;
      throw;
    }
    currentCall = saved;
    tensors = flatten(result, flat);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, errorText(e));
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  if (!tensors) return env.Null();
  Napi::Array r = Napi::Array::New(env, flat.size());
  try {
    for (size_t i = 0; i < flat.size(); i++) r.Set(uint32_t(i), fromTorch(env, flat[i]));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
  return r;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  registerRedisOps();
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("loadModule", Napi::Function::New(env, LoadModule));
  exports.Set("runModule", Napi::Function::New(env, RunModule));
  exports.Set("compileScript", Napi::Function::New(env, CompileScript));
  exports.Set("scriptFunction", Napi::Function::New(env, ScriptFunction));
  exports.Set("runScript", Napi::Function::New(env, RunScript));
  return exports;
}

}  // namespace

NODE_API_MODULE(inferdb_torch, Init)
