"""Writes requests.csv, the log replay fixture (README.md next to this file)."""

import random

HOUR = 3_600_000_000
DURATION = 24 * HOUR


def main() -> None:
    """Writes the fixture next to this script's working directory."""
    rng = random.Random(20261207)
    rows = []
    t = 0
    while True:
        t += int(rng.expovariate(1 / (DURATION / 480)))
        if t >= DURATION:
            break
        segment = "a" if rng.random() < 0.4 else "b"
        user = rng.randrange(1000)
        price = round(0.002 * rng.lognormvariate(0, 0.6), 6)
        won = 1 if 0.003 > price else 0
        click = conversion_time = value = ""
        if won:
            clicked = rng.random() < (0.3 if segment == "a" else 0.1)
            click = "1" if clicked else "0"
            if clicked and rng.random() < 0.3:
                conversion_time = str(t + int(rng.expovariate(1 / (2 * HOUR))))
                value = "%.2f" % (40 * rng.lognormvariate(0, 0.3))
        rows.append(f"{t},display,{segment},{user},0.0005,{price},{won},{click},{conversion_time},{value}")
    with open("requests.csv", "w") as out:
        out.write("time,channel,segment,user,floor,market_price,won,click,conversion_time,value\n")
        out.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
