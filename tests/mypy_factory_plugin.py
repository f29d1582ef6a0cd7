"""mypy plugin: calling a factory_boy factory gives its model.

``CustomerFactory(owner=rep)`` runs the factory's metaclass ``__call__``, which returns a
``Customer``; factory_boy leaves that ``__call__`` unannotated, so mypy would take the call for
an instantiation of the factory class. Factories in tests/factories.py name their model
(``DjangoModelFactory[Customer]``), and this hook types each call as that model.
Registered in pyproject.toml ([tool.mypy] plugins); mypy loads it, pytest never does.
"""

from collections.abc import Callable

from mypy.maptype import map_instance_to_supertype
from mypy.nodes import TypeInfo
from mypy.plugin import FunctionContext, Plugin
from mypy.types import Instance, Type, get_proper_type

BASE_FACTORY = "factory.base.BaseFactory"


def _model_of_factory(ctx: FunctionContext) -> Type:
    factory = get_proper_type(ctx.default_return_type)
    if not isinstance(factory, Instance):
        return ctx.default_return_type
    base = next((info for info in factory.type.mro if info.fullname == BASE_FACTORY), None)
    if base is None:
        return ctx.default_return_type
    model = map_instance_to_supertype(factory, base).args
    if not model or not isinstance(get_proper_type(model[0]), Instance):
        return ctx.default_return_type
    return model[0]


class FactoryPlugin(Plugin):
    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        symbol = self.lookup_fully_qualified(fullname)
        if symbol is not None and isinstance(symbol.node, TypeInfo) and symbol.node.has_base(BASE_FACTORY):
            return _model_of_factory
        return None


def plugin(version: str) -> type[Plugin]:
    return FactoryPlugin
