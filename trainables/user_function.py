"""A user's own Tune function trainable (``trainable: mypkg.train:fit`` with a
``param_space:`` in the config), run by ``ednag run`` like any registered trainable.

The searcher hands out configurations of the config's param space as native strings;
:func:`user_trainable` turns each into the nested configuration the user's function expects
(constants included) and calls it. The function reports with ``tune.report`` as usual; the
harness reads the config's ``fitness`` (and ``reported``) metric from those reports, and with
``objectives`` each objective and constraint metric (:mod:`trainables.trial_runner`).

The user's module is imported in the driver (from the config's folder, then the current one),
and shipped to Ray workers by value when it is not an installed package, so a script next to
the config needs no installation and no ``PYTHONPATH`` on the workers.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ednag.experiment.config import ConfigError
from ednag.experiment.settings import RunSettings
from ednag.spaces.param_spec import config_of, space_from_spec


def load_user_function(ref: str, search_path: Sequence[str] = ()) -> Callable[..., Any]:
    """The function ``module:function`` (the module looked up in ``search_path`` first); a
    :class:`ConfigError` names what is missing."""
    module_name, _, attr = ref.partition(":")
    for folder in reversed([str(Path(p)) for p in search_path]):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    _forget_stale(module_name, search_path)
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ConfigError(
            f"trainable {ref!r}: cannot import module {module_name!r} ({err}); looked in "
            f"{', '.join(search_path) or 'sys.path'} and the installed packages") from None
    function = getattr(module, attr, None)
    if not callable(function):
        raise ConfigError(f"trainable {ref!r}: module {module_name!r} has no function "
                          f"{attr!r}")
    _ship_by_value(module)
    return function


def _forget_stale(module_name: str, search_path: Sequence[str]) -> None:
    """A module of that name imported earlier from elsewhere (another config's folder) is not
    the one beside this config: forget it and its package."""
    from importlib.machinery import PathFinder

    top = module_name.partition(".")[0]
    cached = sys.modules.get(top)
    spec = PathFinder.find_spec(top, [str(p) for p in search_path])
    if cached is None or spec is None or getattr(cached, "__file__", None) == spec.origin:
        return
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]


def _ship_by_value(module: Any) -> None:
    """Pickle the user's package by value unless it is installed (workers may not see it)."""
    from ray import cloudpickle

    path = str(getattr(module, "__file__", "") or "")
    if "site-packages" in path or "dist-packages" in path:
        return
    top = sys.modules[module.__name__.partition(".")[0]]
    cloudpickle.register_pickle_by_value(top)


def user_trainable(config: dict[str, Any], run: dict[str, Any],
                   fn: Callable[..., Any]) -> Any:
    """Tune function trainable: ``config["arch"]`` (a native configuration) -> ``fn(nested
    configuration)``."""
    settings = RunSettings.from_dict(run)
    space, constants = space_from_spec(settings.extra["param_space"])
    return fn(config_of(space, constants, config["arch"]))
