"""The one public surface every result class shares (issue 12): ``plot(self, ax=None, ...,
**kwargs)`` returning the Axes and ``to_xarray(self)``; used by each core's test_surface."""

import inspect


def assert_result_surface(cls):
    """``cls.plot`` takes ``ax=None`` first and ``**kwargs``; ``cls.to_xarray()`` needs no
    argument (optional ones, like a grid for the coordinates, are allowed)."""
    assert callable(getattr(cls, "plot", None)), f"{cls.__name__} has no plot"
    assert callable(getattr(cls, "to_xarray", None)), f"{cls.__name__} has no to_xarray"
    sig = inspect.signature(cls.plot)
    assert list(sig.parameters)[:2] == ["self", "ax"], f"{cls.__name__}.plot: ax comes first"
    assert sig.parameters["ax"].default is None, f"{cls.__name__}.plot: ax defaults to None"
    assert any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()), \
        f"{cls.__name__}.plot takes **kwargs"
    required = [p for name, p in inspect.signature(cls.to_xarray).parameters.items()
                if name != "self" and p.default is p.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert not required, f"{cls.__name__}.to_xarray() must work without arguments"
