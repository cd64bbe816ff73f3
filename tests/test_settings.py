import pytest

from sigma.settings import BOUNDS, Settings


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("sampler", "warp", "unknown sampler 'warp'"),
        ("sampler", "x" * 10_000, "unknown sampler 'xxxx"),
        ("order", "spiral", "unknown order"),
        ("seed", -1, "seed must lie between 0"),
        ("seed", 1.5, "seed must be a whole number"),
        ("seed", 10**400, "seed must be a whole number from 0"),
        ("seed", float("inf"), "seed must lie between"),
        ("temperature", float("nan"), "temperature must lie between"),
        ("temperature", 2.5, "temperature must lie between 0.0 and 2.0"),
        ("num_orders", 32, "num_orders must lie between 1 and 16"),
        ("num_orders", True, "num_orders must be a whole number"),
        ("num_orders", "many", "num_orders must be a whole number"),
    ],
)
def test_bad_settings_say_what_to_change_in_a_short_sentence(field, value, says):
    with pytest.raises(ValueError, match=says) as err:
        Settings(**{field: value}).checked()
    assert len(str(err.value)) < 200


def test_good_settings_come_back_typed():
    s = Settings("burst", "l2r", "3", 0.5, 7.0).checked()
    assert s == Settings("burst", "l2r", 3, 0.5, 7) and isinstance(s.seed, int)
    assert Settings(temperature=BOUNDS["temperature"][1], seed=BOUNDS["seed"][1]).checked()
